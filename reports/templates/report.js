(function () {
  "use strict";
  var table = document.getElementById("flips");
  if (!table) { return; }
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows);
  var search = document.getElementById("flips-search");
  var gold = document.getElementById("flips-gold");
  var pair = document.getElementById("flips-pair");
  var type = document.getElementById("flips-type");
  var sort = document.getElementById("flips-sort");
  var count = document.getElementById("flips-count");
  var descending = true;
  var texts = rows.map(function (r) { return r.textContent.toLowerCase(); });
  function apply() {
    var q = search.value.toLowerCase().trim(), g = gold.value, t = type ? type.value : "";
    var p = pair ? pair.value : "0", shown = 0;
    rows.forEach(function (r, i) {
      var ok = (!g || r.getAttribute("data-gold") === g) &&
        (!t || r.getAttribute("data-f" + p) === t) && (!q || texts[i].indexOf(q) >= 0);
      r.hidden = !ok;
      if (ok) { shown += 1; }
    });
    count.textContent = String(shown);
  }
  function order() {
    var idx = rows.map(function (r, i) { return i; });
    idx.sort(function (a, b) {
      var x = parseFloat(rows[a].getAttribute("data-conf")), y = parseFloat(rows[b].getAttribute("data-conf"));
      return descending ? y - x : x - y;
    });
    rows = idx.map(function (i) { return rows[i]; });
    texts = idx.map(function (i) { return texts[i]; });
    rows.forEach(function (r) { body.appendChild(r); });
    sort.textContent = "Confidence " + (descending ? "\u2193" : "\u2191");
    sort.parentNode.setAttribute("aria-sort", descending ? "descending" : "ascending");
  }
  [search, gold, pair, type].forEach(function (el) {
    if (el) { el.addEventListener("input", apply); el.addEventListener("change", apply); }
  });
  sort.addEventListener("click", function () { descending = !descending; order(); apply(); });
  apply();
}());
