/* The SPARQL editor: YASGUI (npm @zazuko/yasgui, served from this origin) against this service's
   /sparql, with the named questions as examples. A link /sparql#query=... opens that query.
   Nothing is fetched from another host: the autocompleters that ask remote services (LOV) are
   switched off, and no endpoint catalogue is offered. Without script the plain form stays. */
(function () {
  "use strict";
  var host = document.getElementById("yasgui");
  if (!host || typeof Yasgui !== "function") {
    return;
  }
  var endpoint = new URL(host.getAttribute("data-endpoint"), window.location.href).href;
  var local = ["prefixes", "variables"];
  if (Yasgui.Yasqe && Yasgui.Yasqe.defaults) {
    Yasgui.Yasqe.defaults.autocompleters = local.slice();
  }
  var plain = document.getElementById("plain-form");
  var yasgui = new Yasgui(host, {
    requestConfig: { endpoint: endpoint, method: "POST" },
    copyEndpointOnNewTab: true,
    populateFromUrl: false,
    persistenceId: null,
    endpointCatalogueOptions: {
      getData: function () {
        return [{ endpoint: endpoint }];
      }
    },
    yasr: { defaultPlugin: "table" }
  });
  if (plain) {
    plain.hidden = true;
  }

  function quiet(tab) {
    var yasqe = tab && tab.getYasqe && tab.getYasqe();
    if (!yasqe) {
      return;
    }
    ["property", "class"].forEach(function (name) {
      if (yasqe.config.autocompleters.indexOf(name) >= 0 && yasqe.disableCompleter) {
        yasqe.disableCompleter(name);
      }
    });
  }
  quiet(yasgui.getTab());
  yasgui.on("tabAdd", function (instance, id) {
    window.setTimeout(function () {
      quiet(instance.getTab(id));
    }, 0);
  });

  function open(query) {
    var tab = yasgui.getTab();
    tab.setQuery(query);
    quiet(tab);
  }

  function fromAddress() {
    var params = new URLSearchParams(window.location.hash.replace(/^#/, ""));
    var query = params.get("query");
    if (query) {
      open(query);
      if (params.get("run") !== "no") {
        yasgui.getTab().query();
      }
    }
  }
  window.addEventListener("hashchange", fromAddress);
  fromAddress();

  var examples = {};
  var select = document.getElementById("example");
  fetch(host.getAttribute("data-examples"), { headers: { Accept: "application/json" } })
    .then(function (answer) {
      return answer.json();
    })
    .then(function (list) {
      list.forEach(function (example) {
        examples[example.name] = example.query;
      });
    });
  if (select) {
    select.addEventListener("change", function () {
      if (examples[select.value]) {
        open(examples[select.value]);
      }
    });
  }
  window.treatygraphEditor = yasgui;
})();
