// Evidence panels (佐证材料) of a project page. No inline script: the CSP forbids it.
// 1. Upload: a drop zone and a file input (fallback), one XMLHttpRequest per file to the JSON API
//    so the progress bar follows the upload; the SHA-256 shown after success; the API's Chinese
//    `message` shown next to the drop zone on 409/413/415/422.
// 2. 替换: a file input per row uploads with `supersedes`.
// 3. 删除: DELETE through the API, after a confirmation.
// After each change the stage's list is fetched again from the page partial.
(function () {
  "use strict";

  var STATUS_LABELS = {
    400: "请求有误",
    403: "没有权限",
    404: "项目或材料不存在",
    409: "不能上传",
    413: "文件过大",
    415: "文件类型不符",
    422: "文件有误",
  };

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function panelOf(el) { return el.closest("[data-evidence-panel]"); }
  function part(panel, name) { return panel.querySelector("[data-" + name + "]"); }

  function showError(panel, text) {
    var box = part(panel, "upload-error");
    if (!box) { window.alert(text); return; }
    box.textContent = text;
    box.hidden = !text;
  }

  function messageOf(xhrStatus, body) {
    var label = STATUS_LABELS[xhrStatus] || "上传失败";
    var text = "";
    if (body && typeof body === "object") {
      text = body.message || "";
      var errors = body.errors || {};
      var first = Object.keys(errors).map(function (k) {
        var v = errors[k];
        return Array.isArray(v) ? v[0] : (typeof v === "string" ? v : "");
      }).filter(Boolean)[0];
      if (first && first !== text && first.indexOf(text) !== 0) text = text ? text + "：" + first : first;
      else if (first) text = first;
    }
    if (!text) text = "服务器返回 HTTP " + xhrStatus;
    return label + "：" + text;
  }

  function setProgress(panel, percent) {
    var wrap = part(panel, "upload-status");
    var bar = part(panel, "upload-bar");
    var label = part(panel, "upload-percent");
    var value = Math.max(0, Math.min(100, Math.round(percent)));
    bar.style.width = value + "%"; // CSSOM, allowed by style-src 'self'
    wrap.querySelector("[role=progressbar]").setAttribute("aria-valuenow", String(value));
    label.textContent = value + "%";
    var seen = (wrap.getAttribute("data-percents-seen") || "").split(",").filter(Boolean);
    if (seen[seen.length - 1] !== String(value)) {
      seen.push(String(value));
      wrap.setAttribute("data-percents-seen", seen.join(","));
    }
  }

  function refreshList(panel) {
    var list = part(panel, "evidence-list");
    return fetch(panel.getAttribute("data-list-url"), {
      credentials: "same-origin",
      headers: { "HX-Request": "true" },
    }).then(function (resp) {
      if (!resp.ok) throw new Error("HTTP " + resp.status);
      return resp.text();
    }).then(function (html) {
      list.innerHTML = html;
      panel.setAttribute("data-refreshed", String(Date.now()));
    }).catch(function () {
      showError(panel, "材料列表刷新失败，请刷新页面");
    });
  }

  // Upload one file; resolves with the API's JSON, rejects with a Chinese message.
  function send(panel, file, purpose, supersedes) {
    return new Promise(function (resolve, reject) {
      var form = new FormData();
      // the fields before the file: the server checks them before it stores a byte (formdata.py)
      form.append("stage", panel.getAttribute("data-stage"));
      form.append("purpose", purpose);
      if (supersedes) form.append("supersedes", supersedes);
      form.append("file", file, file.name);
      var xhr = new XMLHttpRequest();
      xhr.open("POST", panel.getAttribute("data-upload-url"));
      xhr.setRequestHeader("X-CSRFToken", csrfToken());
      xhr.setRequestHeader("Accept", "application/json");
      xhr.withCredentials = true;
      xhr.responseType = "json";
      xhr.upload.addEventListener("progress", function (evt) {
        if (evt.lengthComputable) setProgress(panel, (evt.loaded / evt.total) * 100);
      });
      xhr.addEventListener("load", function () {
        if (xhr.status === 201 || xhr.status === 200) resolve(xhr.response || {});
        else reject(messageOf(xhr.status, xhr.response));
      });
      xhr.addEventListener("error", function () { reject("上传失败：网络中断或服务器无响应，请重试"); });
      xhr.addEventListener("abort", function () { reject("上传已取消"); });
      xhr.send(form);
    });
  }

  function uploadFiles(panel, files, purpose, supersedes) {
    files = Array.prototype.slice.call(files || []);
    if (!files.length) return;
    showError(panel, "");
    if (!purpose) {
      showError(panel, "请先选择材料用途，再选择或拖放文件");
      var select = panel.querySelector("select[name=purpose]");
      if (select) select.focus();
      return;
    }
    var limit = Number(panel.getAttribute("data-max-bytes")) || 0;
    var tooBig = files.filter(function (f) { return limit && f.size > limit; })[0];
    if (tooBig) {
      showError(panel, "文件过大：「" + tooBig.name + "」超过上限 " + panel.getAttribute("data-max-mib") + " MiB");
      return;
    }
    var wrap = part(panel, "upload-status");
    var done = part(panel, "upload-done");
    var bar = part(panel, "upload-bar");
    panel.setAttribute("data-uploading", "true");
    var chain = Promise.resolve();
    files.forEach(function (file, i) {
      chain = chain.then(function () {
        wrap.hidden = false;
        wrap.removeAttribute("data-percents-seen");
        done.hidden = true;
        bar.classList.remove("bg-danger", "bg-success");
        bar.classList.add("progress-bar-animated");
        part(panel, "upload-name").textContent =
          (supersedes ? "替换为 " : "正在上传 ") + file.name + (files.length > 1 ? "（" + (i + 1) + "/" + files.length + "）" : "");
        setProgress(panel, 0);
        return send(panel, file, purpose, supersedes).then(function (item) {
          setProgress(panel, 100);
          bar.classList.remove("progress-bar-animated");
          bar.classList.add("bg-success");
          part(panel, "upload-name").textContent = "已上传 " + (item.filename || file.name) +
            (item.version_no > 1 ? "（第 " + item.version_no + " 版）" : "");
          part(panel, "upload-sha256").textContent = item.sha256 || "";
          done.hidden = false;
          return refreshList(panel);
        });
      });
    });
    chain.catch(function (message) {
      bar.classList.remove("progress-bar-animated");
      bar.classList.add("bg-danger");
      part(panel, "upload-name").textContent = "上传未完成";
      showError(panel, String(message));
      return refreshList(panel);
    }).then(function () {
      panel.removeAttribute("data-uploading");
    });
  }

  function purposeOf(panel) {
    var select = panel.querySelector("select[name=purpose]");
    return select ? select.value : "";
  }

  // --- 1. the drop zone and the file input ------------------------------------------------------
  document.addEventListener("change", function (evt) {
    var input = evt.target;
    var panel = panelOf(input);
    if (!panel) return;
    if (input.matches("[data-file-input]")) {
      uploadFiles(panel, input.files, purposeOf(panel), null);
      input.value = "";
    } else if (input.matches("[data-replace-input]")) {
      uploadFiles(panel, input.files, input.getAttribute("data-purpose"), input.getAttribute("data-supersedes"));
      input.value = "";
    } else if (input.matches("select[name=purpose]")) {
      showError(panel, "");
    }
  });

  ["dragenter", "dragover"].forEach(function (type) {
    document.addEventListener(type, function (evt) {
      var zone = evt.target.closest && evt.target.closest("[data-dropzone]");
      if (!zone) return;
      evt.preventDefault();
      if (evt.dataTransfer) evt.dataTransfer.dropEffect = "copy";
      zone.classList.add("jx-dropzone-over");
    });
  });
  document.addEventListener("dragleave", function (evt) {
    var zone = evt.target.closest && evt.target.closest("[data-dropzone]");
    if (zone && !zone.contains(evt.relatedTarget)) zone.classList.remove("jx-dropzone-over");
  });
  document.addEventListener("drop", function (evt) {
    var zone = evt.target.closest && evt.target.closest("[data-dropzone]");
    if (!zone) return;
    evt.preventDefault();
    zone.classList.remove("jx-dropzone-over");
    var panel = panelOf(zone);
    if (panel && evt.dataTransfer) uploadFiles(panel, evt.dataTransfer.files, purposeOf(panel), null);
  });
  // a file dropped next to the zone must not replace the page with the file
  window.addEventListener("dragover", function (evt) { if (evt.dataTransfer && evt.dataTransfer.types && Array.prototype.indexOf.call(evt.dataTransfer.types, "Files") >= 0) evt.preventDefault(); });
  window.addEventListener("drop", function (evt) { if (!evt.defaultPrevented) evt.preventDefault(); });

  // --- 3. delete --------------------------------------------------------------------------------
  document.addEventListener("click", function (evt) {
    var button = evt.target.closest("[data-evidence-delete]");
    if (!button) return;
    var panel = panelOf(button);
    var name = button.getAttribute("data-filename") || "";
    if (!window.confirm("确定删除佐证材料「" + name + "」？删除后不能恢复。")) return;
    button.disabled = true;
    window.jixiaoFetch("/api/v1/evidence/" + button.getAttribute("data-evidence-delete"), { method: "DELETE" })
      .then(function (resp) {
        if (resp.status === 204) {
          var status = part(panel, "upload-status");
          if (status) status.hidden = true; // it told of an earlier upload
          return refreshList(panel);
        }
        return resp.json().catch(function () { return {}; }).then(function (body) {
          button.disabled = false;
          showError(panel, messageOf(resp.status, body).replace(/^不能上传/, "不能删除"));
        });
      })
      .catch(function () {
        button.disabled = false;
        showError(panel, "删除失败：网络中断或服务器无响应，请重试");
      });
  });
})();
