/* Draws the statistics page's charts from its JSON island with the vendored Chart.js. */
(function () {
  function draw() {
    var island = document.getElementById("chart-data");
    if (!island || !window.Chart) return;
    var d = JSON.parse(island.textContent);
    var colours = ["#1b7f3b", "#b3261e", "#7a4fb5", "#1f5fbf"];
    new Chart(document.getElementById("chart-status"), {
      type: "bar",
      data: {labels: d.labels, datasets: d.series.map(function (s, i) {
        return {label: s.label, data: s.data, backgroundColor: colours[i % colours.length]};
      })},
      options: {animation: false, responsive: true, scales: {x: {stacked: true}, y: {stacked: true, beginAtZero: true}}}
    });
    new Chart(document.getElementById("chart-rate"), {
      type: "line",
      data: {labels: d.labels, datasets: [{label: d.rate.label, data: d.rate.data, borderColor: "#1b7f3b", spanGaps: true}]},
      options: {animation: false, responsive: true, scales: {y: {min: 0, max: 100}}}
    });
    new Chart(document.getElementById("chart-spend"), {
      type: "bar",
      data: {labels: d.labels, datasets: [{label: d.spend.label, data: d.spend.data, backgroundColor: "#1f5fbf"}]},
      options: {animation: false, responsive: true, scales: {y: {beginAtZero: true}}}
    });
    document.body.setAttribute("data-charts", "drawn");
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
