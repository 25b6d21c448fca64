// Draws a lineage graph with Cytoscape (vendored in /static/vendor) from the page's JSON block.
// In "explore" mode a click on a node marked +N fetches its one-hop neighbourhood from
// /api/lineage and merges it in, so the page only ever holds what the user asked to see.
(function () {
  "use strict";
  var el = document.getElementById("graph");
  var block = document.getElementById("graph-data");
  if (!el || !block || typeof cytoscape === "undefined") {
    return;
  }
  var doc = JSON.parse(block.textContent);
  var info = document.getElementById("graph-info");
  var explore = el.dataset.mode === "explore";
  var STATE = {
    LIVE: "#64748b", COMPLETE: "#64748b", PENDING: "#98a2b3", NEW: "#98a2b3", UNKNOWN: "#98a2b3",
    RUNNING: "#3b82f6", FAILED: "#d64545", ABANDONED: "#d64545", CACHED: "#14a3a3",
    CANCELED: "#8b5cf6", REFERENCE: "#0ea5e9", MARKED_FOR_DELETION: "#98a2b3", DELETED: "#98a2b3"
  };
  var degree = {};

  function noteDegrees(d) {
    var shown = {};
    (d.edges || []).forEach(function (e) {
      shown[e.source] = (shown[e.source] || 0) + 1;
      shown[e.target] = (shown[e.target] || 0) + 1;
    });
    (d.nodes || []).forEach(function (n) {
      var total = (n.more || 0) + (shown[n.id] || 0);
      degree[n.id] = Math.max(degree[n.id] || 0, total);
    });
  }

  function nodeElement(n) {
    var classes = [n.kind];
    if (n.id === doc.start) { classes.push("start"); }
    if (n.role) { classes.push("role-" + n.role); }
    return {
      group: "nodes",
      data: Object.assign({}, n, { color: STATE[n.state] || "#98a2b3", display: n.label }),
      classes: classes.join(" ")
    };
  }

  function edgeElement(e) {
    return { group: "edges", data: Object.assign({}, e, { display: e.key || "" }) };
  }

  function refreshMore() {
    cy.nodes().forEach(function (node) {
      var more = Math.max(0, (degree[node.id()] || 0) - node.connectedEdges().length);
      if (!explore) { more = 0; }
      node.data("more", more);
      node.data("display", node.data("label") + (more > 0 ? "\n+" + more + " more" : ""));
      node.toggleClass("more", more > 0);
    });
    el.dataset.nodes = String(cy.nodes().length);
    el.dataset.edges = String(cy.edges().length);
  }

  // Layered layout for a DAG: a node's row is the length of the longest path reaching it, so
  // data always flows downwards (breadth-first layering would pull a late step up next to an
  // early shared input such as a schema); within a row, nodes sit near their parents.
  function layers() {
    var depth = {};
    var indeg = {};
    var queue = [];
    cy.nodes().forEach(function (n) {
      indeg[n.id()] = n.incomers("edge").length;
      depth[n.id()] = 0;
      if (indeg[n.id()] === 0) { queue.push(n); }
    });
    var seen = 0;
    while (queue.length) {
      var n = queue.shift();
      seen += 1;
      n.outgoers("edge").forEach(function (e) {
        var t = e.target();
        depth[t.id()] = Math.max(depth[t.id()], depth[n.id()] + 1);
        indeg[t.id()] -= 1;
        if (indeg[t.id()] === 0) { queue.push(t); }
      });
    }
    return seen === cy.nodes().length ? depth : null;  // null: not a DAG
  }

  function layout() {
    var depth = layers();
    if (depth === null) {
      cy.layout({ name: "breadthfirst", directed: true, padding: 20, animate: false }).run();
    } else {
      var rows = [];
      cy.nodes().forEach(function (n) {
        (rows[depth[n.id()]] = rows[depth[n.id()]] || []).push(n);
      });
      var x = {};
      var DX = 140, DY = 62;
      rows.forEach(function (row, d) {
        row.forEach(function (n, i) {
          var parents = n.incomers("node").filter(function (p) { return x[p.id()] !== undefined; });
          var sum = 0;
          parents.forEach(function (p) { sum += x[p.id()]; });
          n.scratch("_key", parents.length ? sum / parents.length : i * DX);
        });
        row.sort(function (a, b) { return a.scratch("_key") - b.scratch("_key"); });
        var width = (row.length - 1) * DX;
        row.forEach(function (n, i) {
          x[n.id()] = i * DX - width / 2;
          n.position({ x: x[n.id()], y: d * DY });
        });
      });
      cy.fit(undefined, 20);
    }
    if (cy.zoom() > 1.2) {  // a handful of nodes: keep labels at reading size
      cy.zoom(1.2);
      cy.center();
    }
  }

  function escapeHtml(text) {
    var div = document.createElement("div");
    div.textContent = text == null ? "" : String(text);
    return div.innerHTML;
  }

  function showInfo(n) {
    if (!info) { return; }
    var rows = [
      ["id", n.id], ["type", n.type], ["name", n.name || "–"], ["state", n.state || "–"]
    ];
    if (n.role) { rows.push(["role", n.role]); }
    var html = "<h4>" + escapeHtml(n.type) + "</h4><table class='kv'>";
    rows.forEach(function (r) {
      html += "<tr><th>" + escapeHtml(r[0]) + "</th><td>" + escapeHtml(r[1]) + "</td></tr>";
    });
    html += "</table><p><a href='" + encodeURI(n.url) + "'>details</a> · " +
      "<a href='/lineage?start=" + encodeURIComponent(n.id) + "'>explore from here</a></p>";
    if (n.more > 0) {
      html += "<p class='muted'>" + n.more + " more neighbours" +
        (explore ? ": click again to load them" : "") + "</p>";
    }
    info.innerHTML = html;
  }

  function expand(node) {
    var params = new URLSearchParams({
      start: node.id(), hops: "1", direction: doc.direction || "both",
      per_node: String(doc.per_node || 25), max_nodes: String(doc.max_nodes || 300)
    });
    el.dataset.loading = "1";
    return fetch("/api/lineage?" + params.toString(), { headers: { Accept: "application/json" } })
      .then(function (resp) {
        if (!resp.ok) { throw new Error("HTTP " + resp.status); }
        return resp.json();
      })
      .then(function (more) {
        noteDegrees(more);
        var added = [];
        more.nodes.forEach(function (n) {
          if (cy.getElementById(n.id).empty()) { added.push(nodeElement(n)); }
        });
        more.edges.forEach(function (e) {
          if (cy.getElementById(e.id).empty()) { added.push(edgeElement(e)); }
        });
        cy.add(added);
        node.data("expanded", true);
        refreshMore();
        layout();
        showInfo(node.data());
      })
      .catch(function (err) {
        if (info) { info.textContent = "could not expand " + node.id() + ": " + err.message; }
      })
      .finally(function () { delete el.dataset.loading; });
  }

  noteDegrees(doc);
  var cy = cytoscape({
    container: el,
    elements: doc.nodes.map(nodeElement).concat(doc.edges.map(edgeElement)),
    wheelSensitivity: 0.3,
    minZoom: 0.05,
    maxZoom: 3,
    style: [
      { selector: "node", style: {
        "label": "data(display)", "text-wrap": "wrap", "text-valign": "center",
        "text-halign": "center", "font-size": 9, "color": "#1d2330",
        "width": "label", "height": "label", "padding": 8, "border-width": 2,
        "border-color": "data(color)", "background-color": "#fff"
      } },
      { selector: "node.artifact", style: { "shape": "round-rectangle", "background-color": "#e8edfb" } },
      { selector: "node.execution", style: {
        "shape": "ellipse", "background-color": "data(color)", "color": "#fff", "border-color": "#1d2330"
      } },
      { selector: "node.start", style: { "border-width": 4, "border-color": "#f59e0b" } },
      { selector: "node.role-anchor", style: { "border-width": 4, "border-color": "#f59e0b" } },
      { selector: "node.more", style: { "border-style": "dashed" } },
      { selector: "node:selected", style: { "overlay-color": "#3451b2", "overlay-opacity": 0.15 } },
      { selector: "edge", style: {
        "width": 1.5, "line-color": "#98a2b3", "target-arrow-color": "#98a2b3",
        "target-arrow-shape": "triangle", "curve-style": "bezier", "label": "data(display)",
        "font-size": 7, "color": "#667085", "text-rotation": "autorotate",
        "text-background-color": "#fff", "text-background-opacity": 0.8
      } }
    ]
  });
  refreshMore();
  layout();
  cy.on("tap", "node", function (evt) {
    var node = evt.target;
    showInfo(node.data());
    if (explore && node.data("more") > 0) { expand(node); }
  });
  window.graphletsGraph = { cy: cy, expand: function (id) { return expand(cy.getElementById(id)); } };
})();
