// Dashboard charts: sparklines beside the key indicators, the county league chart and the
// completeness chart. Each reads the same figures as the table beside it (json_script).
(function () {
  function data(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }
  var indicators = data("indicator-data") || [];
  document.querySelectorAll(".spark").forEach(function (el) {
    var row = indicators[Number(el.dataset.index)];
    if (!row) return;
    echarts.init(el).setOption({
      grid: { left: 2, right: 2, top: 4, bottom: 4 },
      xAxis: { type: "category", data: row.years, show: false },
      yAxis: { type: "value", show: false, scale: true },
      tooltip: { trigger: "axis" },
      series: [{ type: "line", data: row.values, symbolSize: 4, lineStyle: { width: 1.5 } }],
    });
  });
  var league = data("league-data");
  var leagueEl = document.getElementById("league-chart");
  if (league && leagueEl) {
    echarts.init(leagueEl).setOption({
      tooltip: {},
      grid: { containLabel: true, left: 8, right: 8, bottom: 8 },
      xAxis: { type: "category", data: league.counties.map(function (c) { return c.name; }),
               axisLabel: { interval: 0, rotate: league.counties.length > 6 ? 35 : 0 } },
      yAxis: { type: "value", minInterval: 1 },
      series: [{ type: "bar", data: league.met, itemStyle: { color: "#2e7d32" } }],
    });
  }
  var completeness = data("completeness-data");
  var completenessEl = document.getElementById("completeness-chart");
  if (completeness && completenessEl) {
    echarts.init(completenessEl).setOption({
      tooltip: {},
      grid: { left: 8, right: 16, containLabel: true },
      yAxis: { type: "category", data: completeness.map(function (r) { return r.form; }), axisLabel: { interval: 0 } },
      xAxis: { type: "value", max: 100 },
      series: [{ type: "bar", itemStyle: { color: "#1f4e79" },
                 data: completeness.map(function (r) { return r.share === null ? 0 : Math.round(r.share * 100); }) }],
    });
  }
})();
// The ranked chart of institutions falling short and the comparison of the units beneath:
// every label shown (interval 0), long names wrapped or rotated rather than dropped.
(function () {
  function data(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }
  var words = data("chart-words") || {};
  var laggards = data("laggards-data");
  var el = document.getElementById("laggards-chart");
  if (laggards && laggards.length && el) {
    var rows = laggards.slice().reverse();
    echarts.init(el).setOption({
      tooltip: {}, grid: { left: 8, right: 24, top: 8, bottom: 8, containLabel: true },
      yAxis: { type: "category", data: rows.map(function (r) { return r.name; }), axisLabel: { interval: 0 } },
      xAxis: { type: "value", minInterval: 1 },
      series: [{ type: "bar", name: words.items, data: rows.map(function (r) { return r.items; }),
                 itemStyle: { color: "#c92a2a" }, label: { show: true, position: "right" } }],
    });
  }
  var towns = data("townships-data");
  var tel = document.getElementById("townships-chart");
  if (towns && towns.length && tel) {
    echarts.init(tel).setOption({
      tooltip: { trigger: "axis" }, legend: { top: 0 },
      grid: { left: 8, right: 8, top: 32, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: towns.map(function (r) { return r.name; }),
               axisLabel: { interval: 0, rotate: towns.length > 6 ? 35 : 0 } },
      yAxis: { type: "value", minInterval: 1 },
      series: [{ type: "bar", stack: "s", name: words.met, data: towns.map(function (r) { return r.met; }), itemStyle: { color: "#2f9e44" } },
               { type: "bar", stack: "s", name: words.not_met, data: towns.map(function (r) { return r.not_met; }), itemStyle: { color: "#e03131" } }],
    });
  }
})();
