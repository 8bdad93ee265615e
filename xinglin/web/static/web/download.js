// Long downloads made visible: a link with class "download" fetches its file while the link
// shows how long the document has been in preparation; the file is then saved under the name
// the server gives (盐池县2025年度中医药工作总结.docx). Without JavaScript the link works as is.
document.addEventListener("click", function (event) {
  var link = event.target.closest("a.download");
  if (!link || !window.fetch || link.dataset.busy === "1") return;
  event.preventDefault();
  var label = link.textContent, started = Date.now();
  link.dataset.busy = "1";
  link.setAttribute("aria-busy", "true");
  var tick = setInterval(function () {
    var seconds = Math.round((Date.now() - started) / 1000);
    link.textContent = (link.dataset.preparing || "…") + " " + seconds + " s";
  }, 500);
  function done(message) {
    clearInterval(tick);
    link.textContent = label;
    link.dataset.busy = "";
    link.removeAttribute("aria-busy");
    if (message) alert(message);
  }
  fetch(link.href, { credentials: "same-origin" }).then(function (response) {
    if (!response.ok) throw new Error(response.status);
    var header = response.headers.get("Content-Disposition") || "";
    var match = /filename\*=utf-8''([^;]+)/i.exec(header) || /filename="([^"]+)"/.exec(header);
    var name = match ? decodeURIComponent(match[1]) : "";
    return response.blob().then(function (blob) {
      var url = URL.createObjectURL(blob), a = document.createElement("a");
      a.href = url; a.download = name; document.body.appendChild(a); a.click(); a.remove();
      setTimeout(function () { URL.revokeObjectURL(url); }, 10000);
      done();
    });
  }).catch(function () { done(link.dataset.failed || "!"); });
});
