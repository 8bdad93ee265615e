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
      xAxis: { type: "category", data: league.counties.map(function (c) { return c.name; }) },
      yAxis: { type: "value", minInterval: 1 },
      series: [{ type: "bar", data: league.met, itemStyle: { color: "#2e7d32" } }],
    });
  }
  var completeness = data("completeness-data");
  var completenessEl = document.getElementById("completeness-chart");
  if (completeness && completenessEl) {
    echarts.init(completenessEl).setOption({
      tooltip: {},
      grid: { left: 160 },
      yAxis: { type: "category", data: completeness.map(function (r) { return r.form; }) },
      xAxis: { type: "value", max: 100 },
      series: [{ type: "bar", itemStyle: { color: "#1f4e79" },
                 data: completeness.map(function (r) { return r.share === null ? 0 : Math.round(r.share * 100); }) }],
    });
  }
})();
