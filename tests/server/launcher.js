#!/usr/bin/env node
// Starts @vercel/cosmosdb-server on 127.0.0.1 over TLS for cosmos-repo's tests, with fixes for
// what azure_data_cosmos needs from it (README.md beside this file lists them with their tests):
//
// 1. Partition key range ids are sent as numbers; the SDK wants strings (503/20305 otherwise).
// 2. A point read, replace or delete of a missing id fails with 500 "Cannot read properties of
//    undefined"; Cosmos DB answers 404 NotFound.
// 3. A query scoped to one partition is refused with 400 "missing partition keys" unless its SQL
//    names the key; the SDK scopes by header instead. The launcher marks such queries as
//    cross-partition so they run. The server does not filter by that header, so cosmos-repo also
//    puts the partition-key predicate in WHERE.
// 4. Documents are told apart by the first partition key path only, and a key of 0, false or ""
//    is taken for the id; hierarchical keys then collide. The launcher keys documents by the
//    JSON array of every path's value, as the SDK sends it in x-ms-documentdb-partitionkey.
// 5. Transactional batches: the server wants the partition key on each operation (the SDK sends
//    it once, in the header), applies the operations before a failed one, and answers 200. The
//    launcher gives each operation the header's key, undoes a failed batch and answers 207, as
//    Cosmos DB does.
// 6. A replace or upsert that breaks a unique key fails with 500 "Resource with specified ...
//    already exists"; Cosmos DB answers 409 Conflict. The launcher answers 409.
// 7. A composite index serves ORDER BY only in its own directions; Cosmos DB also serves the
//    exact reverse. The launcher gives each new container the reverse of each composite index.
// 8. Resource ids are written in plain base64, so some contain `/`; Cosmos DB writes `-` for it,
//    and the SDK cannot resolve a container whose id holds a `/` (500/20020 "failed to extract
//    database RID"), which happens once enough databases exist. The launcher writes `-`.
// 9. `SELECT DISTINCT` is a syntax error. The launcher runs the query without DISTINCT and
//    leaves repeated results out of the answer (the server answers a query in one page).
// 10. A query scoped to one partition by its x-ms-documentdb-partitionkey header reads every
//    partition (after fix 3); Cosmos DB reads that partition only. The launcher runs it over
//    the documents of that partition.
// 11. `GROUP BY` is a syntax error. For the one form cosmos-repo sends (`SELECT <key> AS k,
//    <AGGREGATE>(<arg>) AS v FROM c [WHERE ...] GROUP BY <key>`, in one partition), the launcher
//    reads the matching documents and groups and aggregates them with Cosmos DB's rules.
// 12. The change feed (GET docs with A-IM: Incremental feed) answers every document the first
//    time and 304 after, whatever changed. The launcher numbers every write (`_lsn`, as Cosmos
//    DB does) and answers the documents of the request's scope written after the position in
//    If-None-Match (none: the beginning, `*`: now), oldest first, at most x-ms-max-item-count,
//    with that position as the etag; 304 when there are none.
//
// Usage: node launcher.js [--port N] [--max-seconds S]
// With COSMOS_SERVER_LOG=1 it logs each request and its status to stderr.
// Prints one line `{"endpoint":"https://127.0.0.1:N/"}` once it accepts connections. It stops by
// itself after --max-seconds (default 3600) or when the process that started it exits.

"use strict";

const { createHttpsServer } = require("@vercel/cosmosdb-server");
const Documents = require("@vercel/cosmosdb-server/lib/account/documents").default;
const getValue = require("@vercel/cosmosdb-server/lib/utils/get-value").default;
const partitionHeader = require("@vercel/cosmosdb-server/lib/utils/get-partition-from-header");
const routes = require("@vercel/cosmosdb-server/lib/routes");
const json = require("@vercel/cosmosdb-server/lib/json");
const batchDocuments = require("@vercel/cosmosdb-server/lib/handler/batch-documents").default;
const readDocuments = require("@vercel/cosmosdb-server/lib/handler/read-documents").default;
const ResourceId = require("@vercel/cosmosdb-server/lib/account/resource-id").default;

function parseArgs(argv) {
  const args = { port: 0, maxSeconds: 3600 };
  for (let i = 0; i < argv.length; i += 1) {
    const value = Number(argv[i + 1]);
    if (argv[i] === "--port" && Number.isInteger(value)) {
      args.port = value;
      i += 1;
    } else if (argv[i] === "--max-seconds" && value > 0) {
      args.maxSeconds = value;
      i += 1;
    } else {
      console.error(`unknown or invalid argument: ${argv[i]}`);
      console.error("usage: node launcher.js [--port N] [--max-seconds S]");
      process.exit(2);
    }
  }
  return args;
}

const NOT_FOUND = JSON.stringify({
  code: "NotFound",
  message: "Entity with the specified id does not exist in the system.",
});

// Rewrites a finished JSON response body before it is sent.
function rewriteBody(req, res, body) {
  const isDocument = /\/docs\/[^/]+\/?$/.test(req.url);
  if (res.statusCode === 500 && /Resource with specified .* already exists/.test(body)) {
    res.statusCode = 409;
    return JSON.stringify({ code: "Conflict", message: JSON.parse(body).message });
  }
  if (isDocument && res.statusCode === 500 && body.includes("Cannot read properties of undefined")) {
    res.statusCode = 404;
    return NOT_FOUND;
  }
  if (req.grouped && res.statusCode === 200) {
    const parsed = JSON.parse(body);
    parsed.Documents = group(req.grouped, parsed.Documents || []);
    parsed._count = parsed.Documents.length;
    return JSON.stringify(parsed);
  }
  if (req.distinct && res.statusCode === 200) {
    const parsed = JSON.parse(body);
    const seen = new Set();
    parsed.Documents = (parsed.Documents || []).filter(result => {
      const key = canonical(result);
      return !seen.has(key) && seen.add(key);
    });
    parsed._count = parsed.Documents.length;
    return JSON.stringify(parsed);
  }
  if (req.method === "GET" && /\/pkranges\/?$/.test(req.url) && res.statusCode === 200) {
    const parsed = JSON.parse(body);
    for (const range of parsed.PartitionKeyRanges || []) {
      range.id = String(range.id);
    }
    return JSON.stringify(parsed);
  }
  return body;
}

// Fix 9: equal for results DISTINCT takes as equal (objects whatever their property order).
function canonical(value) {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value && typeof value === "object") {
    const names = Object.keys(value).sort();
    return `{${names.map(name => `${JSON.stringify(name)}:${canonical(value[name])}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

// Fix 4: one canonical partition string, the JSON array of all key values, both for stored
// documents and for the request header.
function keyDocumentsByFullPartitionKey() {
  const parseHeader = partitionHeader.parsePartitionKey;
  partitionHeader.parsePartitionKey = (header, id) => {
    let values;
    try {
      values = JSON.parse(header);
    } catch (error) {
      return parseHeader(header, id);
    }
    values = Array.isArray(values) ? values : [values];
    const isKey = values.length > 0 && values.every(v => v === null || typeof v !== "object");
    return isKey ? JSON.stringify(values) : parseHeader(header, id);
  };
  const getPartition = Documents.prototype._getPartition;
  Documents.prototype._getPartition = function canonicalPartition(data) {
    const paths = (this._partitionKeyPath || []).filter(path => path !== "/_partitionKey");
    if (paths.length === 0) return getPartition.call(this, data);
    return JSON.stringify(paths.map(path => getValue(path.slice(1).split("/"), data)));
  };
}

// Fixes 5 and 7, on the parsed request bodies: batches that carry the key per operation and apply
// all of their operations or none, and containers whose composite indexes also serve in reverse.
function fixRequestBodies() {
  const parsed = new WeakMap();
  const readJson = json.default;
  json.default = async req => {
    if (parsed.has(req)) return parsed.get(req);
    const body = await readJson(req);
    if (req.method === "POST" && /^\/dbs\/[^/]+\/colls\/?$/.test(req.url)) servedInReverse(body);
    const distinct = /^\s*SELECT\s+DISTINCT\s+/i;
    if (body && typeof body.query === "string" && distinct.test(body.query)) {
      body.query = body.query.replace(distinct, "SELECT ");
      req.distinct = true;
    }
    const grouped = body && typeof body.query === "string" && GROUPED.exec(body.query);
    if (grouped) {
      const [, key, aggregate, argument, where, groupKey] = grouped;
      if (key === groupKey) {
        body.query = `SELECT * FROM c${where || ""}`;
        req.grouped = { key: propertyPath(key), aggregate: aggregate.toUpperCase(), argument };
      }
    }
    const key = req.headers["x-ms-documentdb-partitionkey"];
    if (body && typeof body.query === "string" && key !== undefined) {
      Object.defineProperty(body, "partitionScope", {
        value: partitionHeader.parsePartitionKey(key),
        enumerable: false,
      });
    }
    return body;
  };
  const route = routes.default;
  routes.default = req => {
    const found = route(req);
    if (found && found[1] === batchDocuments) return [found[0], atomicBatch];
    if (found && found[1] === readDocuments && req.headers["a-im"] !== undefined) {
      // The server's own change feed handling after the handler must not run (fix 12).
      req.changeFeedFrom = req.headers["if-none-match"];
      delete req.headers["a-im"];
      delete req.headers["if-none-match"];
      return [found[0], changeFeed];
    }
    return found;
  };
  async function atomicBatch(account, req, res, params) {
    const operations = await readJson(req);
    const key = req.headers["x-ms-documentdb-partitionkey"];
    if (Array.isArray(operations)) {
      for (const operation of operations) {
        if (operation && operation.partitionKey === undefined) operation.partitionKey = key;
      }
    }
    parsed.set(req, operations);
    const { documents } = account.database(params.dbId).collection(params.collId);
    const saved = {
      data: new Map(documents._data),
      index: new Map(documents._index),
      ridCount: documents._ridCount,
    };
    const results = await batchDocuments(account, req, res, params);
    if (Array.isArray(results) && results.some(result => result.statusCode >= 400)) {
      documents._data = saved.data;
      documents._index = saved.index;
      documents._ridCount = saved.ridCount;
      res.statusCode = 207;
    }
    return results;
  }
}

// Fix 10: a query with a partition key header runs over the documents of that key only, or of
// every key it is a prefix of (a hierarchical key's leading levels), compared in the canonical
// form of fix 4, which both the header and the documents are read in.
function scopeQueriesByPartitionHeader() {
  const query = Documents.prototype.query;
  Documents.prototype.query = function scopedQuery(params, options) {
    if (params.partitionScope === undefined) return query.call(this, params, options);
    const scope = keyValues(params.partitionScope);
    const inScope = item => underKey(scope, keyValues(this._getPartition(item.read())));
    const every = this._data;
    const scoped = [...every].filter(([, item]) => inScope(item));
    this._data = new Map(scoped);
    try {
      return query.call(this, params, options);
    } finally {
      this._data = every;
    }
  };
}

// Fix 11: the GROUP BY form cosmos-repo sends, and Cosmos DB's aggregates over each group.
const GROUPED =
  /^SELECT (.+) AS k, (COUNT|SUM|AVG|MIN|MAX)\((.+)\) AS v FROM c( WHERE .+)? GROUP BY (.+)$/i;

// The property names of a path such as `c.address.city` or `c['first-seen']`.
function propertyPath(expression) {
  const names = [];
  const step = /\.([A-Za-z_][A-Za-z0-9_]*)|\['((?:[^'\\]|\\.)*)'\]/g;
  for (const [, plain, quoted] of expression.slice(1).matchAll(step)) {
    names.push(plain !== undefined ? plain : JSON.parse(`"${quoted.replace(/\\'/g, "'").replace(/"/g, '\\"')}"`));
  }
  return names;
}

// Cosmos DB's order across types for MIN and MAX: null, booleans, numbers, strings.
function rank(value) {
  return value === null ? 0 : { boolean: 1, number: 2, string: 3 }[typeof value];
}

function compareValues(a, b) {
  return rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0);
}

// The aggregate over the values the group's documents hold (`undefined` for none held), as
// Cosmos DB computes it; `undefined` where it is undefined.
function aggregateOf(aggregate, held) {
  const defined = held.filter(value => value !== undefined);
  if (aggregate === "COUNT") return defined.length;
  if (aggregate === "SUM" || aggregate === "AVG") {
    if (defined.some(value => typeof value !== "number")) return undefined;
    const sum = defined.reduce((total, value) => total + value, 0);
    if (aggregate === "SUM") return sum;
    return defined.length === 0 ? undefined : sum / defined.length;
  }
  if (defined.some(value => value !== null && typeof value === "object")) return undefined;
  const sorted = [...defined].sort(compareValues);
  return aggregate === "MIN" ? sorted[0] : sorted[sorted.length - 1];
}

function group(grouping, documents) {
  const groups = new Map();
  const argument = grouping.argument === "1" ? null : propertyPath(grouping.argument);
  for (const document of documents) {
    const key = getValue(grouping.key, document);
    if (key === undefined) continue;
    const id = canonical(key);
    if (!groups.has(id)) groups.set(id, { key, held: [] });
    groups.get(id).held.push(argument === null ? null : getValue(argument, document));
  }
  return [...groups.values()].map(({ key, held }) => {
    const value = aggregateOf(grouping.aggregate, held);
    return value === undefined ? { k: key } : { k: key, v: value };
  });
}

// Fix 12: every write numbered, and a latest-version change feed over those numbers.
let lastLsn = 0;

function numberWrites() {
  const set = Documents.prototype._set;
  Documents.prototype._set = function numbered(data) {
    lastLsn += 1;
    return set.call(this, { ...data, _lsn: lastLsn });
  };
}

// The values of a canonical partition key (fix 4), each as JSON, to compare by prefix.
function keyValues(canonicalKey) {
  try {
    const parsed = JSON.parse(canonicalKey);
    return Array.isArray(parsed) ? parsed.map(value => JSON.stringify(value)) : [canonicalKey];
  } catch (error) {
    return [canonicalKey];
  }
}

function underKey(scope, key) {
  return scope.length <= key.length && scope.every((value, i) => value === key[i]);
}

async function changeFeed(account, req, res, { dbId, collId }) {
  const collection = account.database(dbId).collection(collId);
  if (!collection.read()) {
    res.statusCode = 404;
    return {};
  }
  const { documents } = collection;
  const header = req.headers["x-ms-documentdb-partitionkey"];
  const scope = header === undefined ? null : keyValues(partitionHeader.parsePartitionKey(header));
  const from = req.changeFeedFrom;
  const after = from === undefined ? 0 : from === "*" ? lastLsn : Number(String(from).replace(/"/g, ""));
  const limit = Number(req.headers["x-ms-max-item-count"]);
  const changed = [...documents._data.values()]
    .map(item => item.read())
    .filter(doc => (doc._lsn || 0) > after)
    .filter(doc => scope === null || underKey(scope, keyValues(documents._getPartition(doc))))
    .sort((a, b) => a._lsn - b._lsn)
    .slice(0, limit > 0 ? limit : undefined);
  const position = changed.length > 0 ? changed[changed.length - 1]._lsn : Math.max(after, 0);
  res.setHeader("etag", `"${position}"`);
  res.setHeader("x-ms-item-count", String(changed.length));
  if (changed.length === 0) res.statusCode = 304;
  return { Documents: changed, _count: changed.length };
}

// Fix 7: each composite index of a new container, and its reverse.
function servedInReverse(container) {
  const policy = container && container.indexingPolicy;
  const indexes = (policy && policy.compositeIndexes) || [];
  const flip = order => (order === "descending" ? "ascending" : "descending");
  const key = index => JSON.stringify(index);
  const known = new Set(indexes.map(key));
  for (const index of [...indexes]) {
    const reverse = index.map(path => ({ ...path, order: flip(path.order || "ascending") }));
    if (!known.has(key(reverse))) {
      known.add(key(reverse));
      indexes.push(reverse);
    }
  }
}

// Fix 8: resource ids in Cosmos DB's alphabet.
function cosmosResourceIds() {
  ResourceId.toBase64String = buffer => buffer.toString("base64").replace(/\//g, "-");
  ResourceId.fromBase64String = text => Buffer.from(text.replace(/-/g, "/"), "base64");
}

// The server logs the error behind fix 2 before the launcher turns it into a 404; drop that log.
function quietMissingDocumentErrors() {
  const log = console.error;
  console.error = (...args) => {
    const [first] = args;
    const missing = first instanceof TypeError && first.message.startsWith("Cannot read properties of undefined");
    if (!missing) log(...args);
  };
}

function fix(req, res) {
  const isQuery = String(req.headers["content-type"] || "").startsWith("application/query+json");
  if (isQuery && req.headers["x-ms-documentdb-query-enablecrosspartition"] === undefined) {
    req.headers["x-ms-documentdb-query-enablecrosspartition"] = "true";
  }
  const end = res.end.bind(res);
  res.end = (chunk, ...rest) => {
    if (process.env.COSMOS_SERVER_LOG === "1") {
      console.error(`${req.method} ${req.url} -> ${res.statusCode} ${String(chunk || "").slice(0, 200)}`);
    }
    if (typeof chunk === "string" && chunk.length > 0) {
      const body = rewriteBody(req, res, chunk);
      res.setHeader("content-length", Buffer.byteLength(body));
      return end(body, ...rest);
    }
    return end(chunk, ...rest);
  };
}

function main() {
  const args = parseArgs(process.argv.slice(2));
  keyDocumentsByFullPartitionKey();
  fixRequestBodies();
  scopeQueriesByPartitionHeader();
  numberWrites();
  cosmosResourceIds();
  quietMissingDocumentErrors();
  const server = createHttpsServer({ keepAlive: true });
  const handlers = server.listeners("request");
  server.removeAllListeners("request");
  server.on("request", (req, res) => {
    fix(req, res);
    for (const handler of handlers) handler.call(server, req, res);
  });

  server.listen(args.port, "127.0.0.1", () => {
    const { port } = server.address();
    console.log(JSON.stringify({ endpoint: `https://127.0.0.1:${port}/` }));
  });

  const stop = () => {
    server.close();
    process.exit(0);
  };
  setTimeout(stop, args.maxSeconds * 1000);
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) stop();
  }, 1000);
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

main();
