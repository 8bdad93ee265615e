// Long downloads made visible (documents/jobs.py). A link with class "download" asks for its
// file as JSON-aware script: a file ready (cached, or made within a second or two) is saved at
// once under the name the server gives (盐池县2025年度中医药工作总结.docx); otherwise the
// server answers 202 with the job's status, and a progress bar with its step in words follows
// the job (polling status_url) until the file can be fetched. A 409 says another document of
// the same person is still being prepared. The progress page ([data-job-status]) polls the
// same status. Without JavaScript the link leads to that page, which refreshes by hand.
(function () {
  function filenameOf(response) {
    var header = response.headers.get("Content-Disposition") || "";
    var match = /filename\*=utf-8''([^;]+)/i.exec(header) || /filename="([^"]+)"/.exec(header);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function save(response) {
    var name = filenameOf(response);
    return response.blob().then(function (blob) {
      var url = URL.createObjectURL(blob), a = document.createElement("a");
      a.href = url; a.download = name; document.body.appendChild(a); a.click(); a.remove();
      setTimeout(function () { URL.revokeObjectURL(url); }, 10000);
    });
  }

  function describe(status) {
    return status.status_label + " · " + status.step + " · " + status.progress + "%";
  }

  // Calls show(status) until the job is done (resolve with its status) or failed: soon at
  // first (a small document takes well under a second), then every second.
  function follow(statusUrl, show) {
    var polls = 0;
    return new Promise(function (resolve, reject) {
      function poll() {
        polls += 1;
        fetch(statusUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
          .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
          .then(function (status) {
            show(status);
            if (status.status === "done") resolve(status);
            else if (status.status === "failed") reject(new Error("failed"));
            else setTimeout(poll, Math.min(1000, 200 * polls));
          }).catch(reject);
      }
      poll();
    });
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest("a.download");
    if (!link || !window.fetch || link.dataset.busy === "1") return;
    event.preventDefault();
    var label = link.textContent;
    var bar = document.createElement("progress"), text = document.createElement("span");
    bar.max = 100; bar.value = 0; text.className = "job-text"; text.setAttribute("role", "status");
    text.textContent = link.dataset.preparing || "…";
    link.dataset.busy = "1";
    link.setAttribute("aria-busy", "true");
    link.after(bar, text);
    function show(status) { bar.value = status.progress; text.textContent = describe(status); }
    function done(message) {
      link.textContent = label;
      link.dataset.busy = "";
      link.removeAttribute("aria-busy");
      bar.remove(); text.remove();
      if (message) alert(message);
    }
    fetch(link.href, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (response.status === 200) return save(response);
        if (response.status !== 202 && response.status !== 409) throw new Error(response.status);
        return response.json().then(function (status) {
          if (status.message) alert(status.message);
          show(status);
          return follow(status.status_url, show).then(function (final) {
            return fetch(final.file_url, { credentials: "same-origin" }).then(save);
          });
        });
      })
      .then(function () { done(); })
      .catch(function () { done(link.dataset.failed || "!"); });
  });

  var box = document.querySelector("[data-job-status]");
  if (box && window.fetch) {
    var bar = box.querySelector("progress"), text = box.querySelector(".job-text");
    var ready = box.querySelector(".job-ready");
    follow(box.dataset.jobStatus, function (status) {
      bar.value = status.progress;
      text.textContent = describe(status);
    }).then(function (status) {
      ready.querySelector("a").href = status.file_url;
      ready.hidden = false;
    }).catch(function () { text.textContent = box.dataset.failed; });
  }
})();
