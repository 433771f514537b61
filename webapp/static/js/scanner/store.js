/* Профмаршрут scanner: what the phone keeps in IndexedDB, per scanner "scope" (one event's
 * /checkin page, or one scanner link):
 *   data    scope → {scope, eventId, payload (scanner-data), fetchedAt, validUntil}
 *   queue   clientScanId → a scan not yet acknowledged by the server
 *   local   [scope, ticketHash] → a check-in made on this phone ({at, by, clientScanId})
 *   meta    key → value (device label)
 * Loaded by the page and by the service worker (wipe on logout / expired link).
 */
(function (root) {
  "use strict";

  var DB_NAME = "profroute-scanner";
  var DB_VERSION = 1;
  var opening = null;

  function open() {
    if (opening) { return opening; }
    opening = new Promise(function (resolve, reject) {
      var req = indexedDB.open(DB_NAME, DB_VERSION);
      req.onupgradeneeded = function () {
        var db = req.result;
        if (!db.objectStoreNames.contains("data")) { db.createObjectStore("data", { keyPath: "scope" }); }
        if (!db.objectStoreNames.contains("queue")) {
          var queue = db.createObjectStore("queue", { keyPath: "clientScanId" });
          queue.createIndex("scope", "scope");
        }
        if (!db.objectStoreNames.contains("local")) {
          var local = db.createObjectStore("local", { keyPath: ["scope", "hash"] });
          local.createIndex("scope", "scope");
        }
        if (!db.objectStoreNames.contains("meta")) { db.createObjectStore("meta"); }
      };
      req.onsuccess = function () {
        var db = req.result;
        db.onversionchange = function () { db.close(); opening = null; };
        resolve(db);
      };
      req.onerror = function () { opening = null; reject(req.error); };
      req.onblocked = function () { opening = null; reject(new Error("IndexedDB blocked")); };
    });
    return opening;
  }

  function run(storeNames, mode, body) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(storeNames, mode);
        var out;
        tx.oncomplete = function () { resolve(out); };
        tx.onerror = function () { reject(tx.error); };
        tx.onabort = function () { reject(tx.error || new Error("transaction aborted")); };
        body(tx, function (value) { out = value; });
      });
    });
  }

  function getAllByScope(tx, storeName, scope, done) {
    var req = tx.objectStore(storeName).index("scope").getAll(IDBKeyRange.only(scope));
    req.onsuccess = function () { done(req.result || []); };
  }

  var Store = {
    getData: function (scope) {
      return run(["data"], "readonly", function (tx, set) {
        var req = tx.objectStore("data").get(scope);
        req.onsuccess = function () { set(req.result || null); };
      });
    },
    putData: function (record) {
      return run(["data"], "readwrite", function (tx) { tx.objectStore("data").put(record); });
    },
    enqueue: function (item) {
      return run(["queue"], "readwrite", function (tx) { tx.objectStore("queue").put(item); });
    },
    queued: function (scope) {
      return run(["queue"], "readonly", function (tx, set) {
        getAllByScope(tx, "queue", scope, function (items) {
          items.sort(function (a, b) { return a.seq - b.seq; });
          set(items);
        });
      });
    },
    queueCount: function (scope) {
      return run(["queue"], "readonly", function (tx, set) {
        var req = tx.objectStore("queue").index("scope").count(IDBKeyRange.only(scope));
        req.onsuccess = function () { set(req.result); };
      });
    },
    updateQueued: function (item) {
      return run(["queue"], "readwrite", function (tx) { tx.objectStore("queue").put(item); });
    },
    acknowledge: function (clientScanIds) {
      return run(["queue"], "readwrite", function (tx) {
        var store = tx.objectStore("queue");
        clientScanIds.forEach(function (id) { store.delete(id); });
      });
    },
    localCheckins: function (scope) {
      return run(["local"], "readonly", function (tx, set) {
        getAllByScope(tx, "local", scope, function (items) {
          var map = new Map();
          items.forEach(function (item) { map.set(item.hash, item); });
          set(map);
        });
      });
    },
    putLocal: function (item) {
      return run(["local"], "readwrite", function (tx) { tx.objectStore("local").put(item); });
    },
    deleteLocal: function (scope, hash) {
      return run(["local"], "readwrite", function (tx) { tx.objectStore("local").delete([scope, hash]); });
    },
    /* After a fresh download the server knows everything already sent: forget local marks made
     * before it was generated whose scans have been acknowledged. */
    pruneLocal: function (scope, generatedAt) {
      var cutoff = Date.parse(generatedAt);
      return run(["local", "queue"], "readwrite", function (tx) {
        var queue = tx.objectStore("queue");
        var local = tx.objectStore("local");
        getAllByScope(tx, "local", scope, function (items) {
          items.forEach(function (item) {
            if (Date.parse(item.at) > cutoff - 60000) { return; }
            var check = queue.get(item.clientScanId || "");
            check.onsuccess = function () {
              if (!check.result) { local.delete([scope, item.hash]); }
            };
          });
        });
      });
    },
    getMeta: function (key) {
      return run(["meta"], "readonly", function (tx, set) {
        var req = tx.objectStore("meta").get(key);
        req.onsuccess = function () { set(req.result); };
      });
    },
    putMeta: function (key, value) {
      return run(["meta"], "readwrite", function (tx) { tx.objectStore("meta").put(value, key); });
    },
    /* Forget a scope's personal data (downloaded tickets and local marks). Scans not yet sent are
     * kept unless ``withQueue``: they are the door's record and carry no names. */
    wipe: function (scope, withQueue) {
      var stores = withQueue ? ["data", "local", "queue"] : ["data", "local"];
      return run(stores, "readwrite", function (tx) {
        tx.objectStore("data").delete(scope);
        var local = tx.objectStore("local");
        getAllByScope(tx, "local", scope, function (items) {
          items.forEach(function (item) { local.delete([scope, item.hash]); });
        });
        if (withQueue) {
          var queue = tx.objectStore("queue");
          getAllByScope(tx, "queue", scope, function (items) {
            items.forEach(function (item) { queue.delete(item.clientScanId); });
          });
        }
      });
    },
    /* Logout: every organizer scope's personal data goes. */
    wipeSessionScopes: function () {
      return run(["data", "local"], "readwrite", function (tx) {
        var data = tx.objectStore("data");
        var local = tx.objectStore("local");
        var reqData = data.getAllKeys();
        reqData.onsuccess = function () {
          reqData.result.forEach(function (key) { if (String(key).indexOf("checkin-") === 0) { data.delete(key); } });
        };
        var reqLocal = local.getAllKeys();
        reqLocal.onsuccess = function () {
          reqLocal.result.forEach(function (key) { if (String(key[0]).indexOf("checkin-") === 0) { local.delete(key); } });
        };
      });
    }
  };

  root.ScannerStore = Store;
})(typeof self !== "undefined" ? self : this);
