/* The link maps: a resource's typed links (or the links among the four conventions) drawn with
   Cytoscape.js from the JSON at the map's data-src. No inline code or styles: the colours are
   read from the legend's own swatches (style.css), so the picture and its legend always agree.
   Choosing a node (or an arrow of the whole graph) opens its page. */
(function () {
  "use strict";
  var host = document.getElementById("linkmap");
  if (!host || typeof cytoscape !== "function") {
    return;
  }

  function swatch(selector, property) {
    var element = document.querySelector(selector);
    if (!element) {
      return "#777777";
    }
    return window.getComputedStyle(element)[property || "backgroundColor"];
  }

  function draw(data) {
    var whole = !data.center;
    var parts = {};  // the parts of the resource drawn on its map: the inner ring
    data.elements.forEach(function (element) {
      var inner = element.data.kind === "partOf" || element.data.kind === "versionOf";
      if (inner && element.data.target === data.center) {
        parts[element.data.source] = true;
      }
    });
    var linkKinds = {};
    var groups = {};
    data.elements.forEach(function (element) {
      if (element.data.source) {
        linkKinds[element.data.kind] = true;
      } else {
        groups[element.data.group || "instrument"] = true;
      }
    });
    var style = [
      {
        selector: "node",
        style: {
          label: "data(label)",
          "font-size": whole ? 14 : 10,
          "text-wrap": "wrap",
          "text-max-width": whole ? 160 : 120,
          "text-valign": "bottom",
          "text-margin-y": 4,
          color: "#1d2327",
          "background-color": swatch(".swatch.group-instrument"),
          width: whole ? 34 : 18,
          height: whole ? 34 : 18
        }
      },
      {
        selector: "edge",
        style: {
          "curve-style": "bezier",
          "target-arrow-shape": "triangle",
          width: whole ? 3 : 2,
          "line-color": "#999999",
          "target-arrow-color": "#999999",
          label: whole ? "data(label)" : "",
          "font-size": 13,
          "text-background-color": "#ffffff",
          "text-background-opacity": 0.9,
          "text-background-padding": 2
        }
      },
      { selector: 'edge[kind = "partOf"]', style: { "line-style": "dashed" } }
    ];
    Object.keys(groups).forEach(function (group) {
      style.push({
        selector: 'node[group = "' + group + '"]',
        style: { "background-color": swatch(".swatch.group-" + group) }
      });
    });
    Object.keys(linkKinds).forEach(function (kind) {
      var colour = swatch(".swatch.link-" + kind);
      style.push({
        selector: 'edge[kind = "' + kind + '"]',
        style: { "line-color": colour, "target-arrow-color": colour }
      });
    });
    style.push({
      selector: "node[?center]",
      style: {
        "border-width": 4,
        "border-color": swatch(".swatch.center", "borderTopColor"),
        width: 28,
        height: 28,
        "font-weight": "bold"
      }
    });
    var layout = whole
      ? { name: "circle", padding: 40 }
      : {
          name: "concentric",
          padding: 24,
          minNodeSpacing: 36,
          spacingFactor: 1.1,
          concentric: function (node) {
            if (node.data("center")) {
              return 3;
            }
            return parts[node.id()] ? 2 : 1;
          },
          levelWidth: function () {
            return 1;
          }
        };
    var cy = cytoscape({
      container: host,
      elements: data.elements,
      style: style,
      layout: layout,
      userZoomingEnabled: false,
      maxZoom: 1.2,
      boxSelectionEnabled: false
    });
    cy.on("tap", "node, edge", function (event) {
      var href = event.target.data("href");
      if (href && href.charAt(0) === "/" && href.charAt(1) !== "/") {
        window.location.assign(href);
      }
    });
    host.classList.add("drawn");
    host.setAttribute("data-nodes", String(cy.nodes().length));
    host.setAttribute("data-edges", String(cy.edges().length));
    window.treatygraphMap = cy;
  }

  fetch(host.getAttribute("data-src"), { headers: { Accept: "application/json" } })
    .then(function (answer) {
      if (!answer.ok) {
        throw new Error("the map's data could not be read (" + answer.status + ")");
      }
      return answer.json();
    })
    .then(draw)
    .catch(function (error) {
      host.classList.add("failed");
      host.textContent = "The map could not be drawn: " + error.message;
    });
})();
