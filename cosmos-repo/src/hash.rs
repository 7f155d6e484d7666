//! A hash that is the same in every process and release: for what leaves a process (bound
//! continuation tokens) or must not change between runs (the embedded store's feed ranges).

/// 64-bit FNV-1a: small, and the same everywhere (std's hashers may change between releases).
/// Every field ends with a 0xff byte, which UTF-8 never holds, so fields cannot run together.
pub(crate) struct Fnv(pub(crate) u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    pub(crate) fn write(&mut self, bytes: &[u8]) {
        for byte in bytes.iter().chain([&0xff]) {
            self.0 = (self.0 ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}
