"""The evidence pages (佐证材料) in a browser, in both modes: upload by file input and by a dropped
file with the progress bar and the SHA-256, the required purposes ✓/✗, download, a spoofed PDF
refused (415) with the API's message, delete while the stage is a draft, replace (version 2 with
its history) after the assessment is submitted, the preview of an image and a PDF; the walls (a
sibling county 404, the city read-only)."""

from __future__ import annotations

import hashlib
import os
import re
import struct
import zlib
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.api.test_project_lifecycle import CRITERIA, new_project

from .helpers import (
    assert_no_inline_script,
    csp_directives,
    expect_document_status,
    go,
    settle,
    shot,
    signed_in,
)

pytestmark = pytest.mark.browser

PDF = b"%PDF-1.7\n" + os.urandom(2 * 1024 * 1024)
PDF_V2 = b"%PDF-1.7\n" + os.urandom(300 * 1024)
SPOOFED = "这不是 PDF，只是改了扩展名的文本文件。\n".encode() * 20


def _png(width: int = 96, height: int = 64) -> bytes:
    """A real (decodable) PNG: a navy-to-teal gradient, so the preview shows something."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(
        b"\x00" + b"".join(bytes((20, 40 + y * 2, 90 + x)) for x in range(width)) for y in range(height)
    )
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


PNG = _png()


def _program(api: Any, unique: str) -> int:
    resp = api.as_user("nx.admin").post(
        "/api/v1/programs",
        json={
            "name": f"佐证页面试点{unique}",
            "start": "2026-01-01",
            "end": "2027-12-31",
            "tenant_codes": ["640104", "640105"],
            "max_projects_per_tenant": 5,
            "deadlines": {"assessment": "2027-06-30", "targets": "2027-09-30"},
            "settings": {"evidence": {"required_purposes": {"assessment": ["立项依据", "实施方案"]}}},
        },
    )
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()["id"]


def _throttle_uploads(page: Any, bytes_per_second: int) -> Any:
    """Slow the uploads down (Chromium's network emulation), so the progress bar moves visibly."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": bytes_per_second},
    )
    return cdp


def test_evidence_panel_upload_download_replace_and_walls(fresh_page, live_server, api, unique, tmp_path):
    project = new_project(api, _program(api, unique), unique, years=(2026,))
    pid = project["id"]

    editor = signed_in(fresh_page, "xq.editor")
    go(editor, f"/projects/{pid}")
    editor.get_by_test_id("tab-evidence").click()
    settle(editor)
    expect(editor.get_by_test_id("tab-evidence")).to_have_attribute("aria-current", "page")
    panel = editor.get_by_test_id("evidence-panel-assessment")
    expect(panel.get_by_test_id("evidence-empty")).to_be_visible()
    expect(panel.get_by_test_id("required-立项依据")).to_have_attribute("data-present", "no")
    expect(panel.get_by_test_id("required-立项依据")).to_contain_text("✗")
    expect(editor.get_by_test_id("evidence-panel-targets")).to_contain_text("尚未进入本阶段")
    expect(editor.get_by_test_id("evidence-panel-targets").get_by_test_id("upload-form")).to_have_count(0)
    # required purposes first in the select, the first missing one preselected
    options = panel.get_by_test_id("purpose-select").locator("option").all_inner_texts()
    assert options[1:3] == ["立项依据（必备）", "实施方案（必备）"], options
    expect(panel.get_by_test_id("purpose-select")).to_have_value("立项依据")
    assert_no_inline_script(editor)
    shot(editor, "evidence-empty")

    # --- a 2 MB PDF through the file input, throttled: the bar moves ----------------------------
    cdp = _throttle_uploads(editor, 1024 * 1024)
    panel.get_by_test_id("file-input").set_input_files(
        {"name": "立项批复（2026）.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    expect(panel.get_by_test_id("upload-progress")).to_be_visible()
    expect(panel.get_by_test_id("upload-percent")).to_have_text(re.compile(r"^([1-9]\d?)%$"), timeout=10_000)
    shot(editor, "evidence-uploading")
    expect(panel.get_by_test_id("upload-sha256")).to_have_text(
        hashlib.sha256(PDF).hexdigest(), timeout=20_000
    )
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )
    expect(panel.get_by_test_id("upload-percent")).to_have_text("100%")
    seen = [
        int(p) for p in panel.get_by_test_id("upload-status").get_attribute("data-percents-seen").split(",")
    ]
    assert any(0 < p < 100 for p in seen), seen
    row = panel.get_by_test_id("evidence-row").filter(has_text="立项批复（2026）.pdf")
    expect(row).to_have_count(1)
    expect(row.get_by_test_id("evidence-sha256")).to_have_text(hashlib.sha256(PDF).hexdigest()[:12])
    expect(row.get_by_test_id("evidence-sha256")).to_have_attribute("title", hashlib.sha256(PDF).hexdigest())
    expect(row.get_by_test_id("evidence-size")).to_have_text("2.0 MB")
    expect(row).to_contain_text("兴庆区项目单位填报人")  # the uploader by name
    expect(row).to_contain_text("立项依据")
    expect(row.get_by_test_id("evidence-version")).to_have_text("第 1 版")
    expect(panel.get_by_test_id("required-立项依据")).to_have_attribute("data-present", "yes")
    expect(panel.get_by_test_id("required-实施方案")).to_have_attribute("data-present", "no")

    # --- a PNG dropped on the drop zone -----------------------------------------------------------
    panel.get_by_test_id("purpose-select").select_option("实施方案")
    transfer = editor.evaluate_handle(
        """(bytes) => {
          const dt = new DataTransfer();
          dt.items.add(new File([new Uint8Array(bytes)], "现场照片.png", { type: "image/png" }));
          return dt;
        }""",
        list(PNG),
    )
    zone = panel.get_by_test_id("dropzone")
    zone.dispatch_event("dragenter", {"dataTransfer": transfer})
    expect(zone).to_have_class(re.compile("jx-dropzone-over"))
    zone.dispatch_event("drop", {"dataTransfer": transfer})
    expect(panel.get_by_test_id("upload-sha256")).to_have_text(hashlib.sha256(PNG).hexdigest())
    expect(zone).not_to_have_class(re.compile("jx-dropzone-over"))
    png_row = panel.get_by_test_id("evidence-row").filter(has_text="现场照片.png")
    expect(png_row.get_by_test_id("evidence-size")).to_have_text(re.compile(r"^\d+\.\d KB$"))
    expect(panel.get_by_test_id("required-实施方案")).to_have_attribute("data-present", "yes")
    expect(panel.get_by_test_id("required-实施方案")).to_contain_text("✓")

    # --- download: the same bytes --------------------------------------------------------------
    with editor.expect_download() as info:
        row.get_by_test_id("download").click()
    download = info.value
    saved = tmp_path / "down.pdf"
    download.save_as(saved)
    assert hashlib.sha256(Path(saved).read_bytes()).hexdigest() == hashlib.sha256(PDF).hexdigest()
    assert download.suggested_filename == "立项批复（2026）.pdf"

    # --- a spoofed PDF: the API's 415 message next to the drop zone -------------------------------
    panel.get_by_test_id("purpose-select").select_option("其他")
    panel.get_by_test_id("file-input").set_input_files(
        {"name": "伪装.pdf", "mimeType": "application/pdf", "buffer": SPOOFED}
    )
    error = panel.get_by_test_id("upload-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("文件类型不符")
    expect(error).to_contain_text("文件内容与扩展名不符")
    expect(panel.get_by_test_id("evidence-row")).to_have_count(2)
    shot(editor, "evidence-spoofed")

    # --- delete while the stage is a draft ----------------------------------------------------------
    panel.get_by_test_id("file-input").set_input_files(
        {"name": "临时说明.pdf", "mimeType": "application/pdf", "buffer": PDF_V2}
    )
    expect(error).to_be_hidden()
    expect(panel.get_by_test_id("evidence-row")).to_have_count(3)
    panel.get_by_test_id("evidence-row").filter(has_text="临时说明.pdf").get_by_test_id("delete").click()
    expect(panel.get_by_test_id("evidence-row")).to_have_count(2)
    expect(panel.get_by_test_id("evidence-table")).not_to_contain_text("临时说明.pdf")
    expect(panel.get_by_test_id("upload-status")).to_be_hidden()
    shot(editor, "evidence-draft")

    # --- preview: the image inline, the PDF in a frame of the app's own stream ----------------------
    png_row.get_by_test_id("preview").click()
    settle(editor)
    image = editor.get_by_test_id("preview-image")
    expect(image).to_be_visible()
    editor.wait_for_function("document.querySelector('[data-testid=preview-image]').naturalWidth === 96")
    expect(editor.get_by_test_id("preview-sha256")).to_have_text(hashlib.sha256(PNG).hexdigest())
    shot(editor, "evidence-preview-image")
    editor.get_by_test_id("back").click()
    settle(editor)
    panel.get_by_test_id("evidence-row").filter(has_text="立项批复").get_by_test_id("preview").click()
    settle(editor)
    expect(editor.get_by_test_id("preview-pdf")).to_be_visible()
    inline = editor.request.get(f"/evidence/{row_id(editor, 'preview-pdf')}/inline")
    inline_csp = csp_directives(inline.headers)
    assert inline_csp["script-src"] == ["'self'"] and inline_csp["frame-ancestors"] == ["'self'"], inline_csp
    assert inline.status == 200 and inline.headers["content-disposition"].startswith("inline")
    assert hashlib.sha256(inline.body()).hexdigest() == hashlib.sha256(PDF).hexdigest()
    shot(editor, "evidence-preview-pdf")

    # --- after the assessment is submitted: no delete, replace makes version 2 ------------------
    client = api.as_user("xq.editor")
    assert (
        client.put(
            f"/api/v1/projects/{pid}/assessment", json={"criteria": CRITERIA, "summary": "建议支持"}
        ).status_code
        == 200
    )
    assert client.post(f"/api/v1/projects/{pid}/assessment/submit").status_code == 200
    go(editor, f"/evidence/projects/{pid}")
    panel = editor.get_by_test_id("evidence-panel-assessment")
    expect(panel.get_by_test_id("evidence-stage-status")).to_have_text("审核中")
    expect(panel.get_by_test_id("delete")).to_have_count(0)
    expect(panel.get_by_test_id("replace")).to_have_count(2)
    pdf_row = panel.get_by_test_id("evidence-row").filter(has_text="立项批复")
    pdf_row.get_by_test_id("replace-input").set_input_files(
        {"name": "立项批复（2026 修订）.pdf", "mimeType": "application/pdf", "buffer": PDF_V2}
    )
    expect(panel.get_by_test_id("upload-sha256")).to_have_text(hashlib.sha256(PDF_V2).hexdigest())
    new_row = panel.get_by_test_id("evidence-row").filter(has_text="立项批复（2026 修订）.pdf")
    expect(new_row.get_by_test_id("evidence-version")).to_have_text("第 2 版")
    expect(panel.get_by_test_id("evidence-row")).to_have_count(2)
    history = panel.get_by_test_id("history")
    history.locator("summary").click()
    versions = history.get_by_test_id("history-version")
    expect(versions).to_have_count(2)
    expect(versions.nth(0)).to_contain_text("第 2 版")
    expect(versions.nth(0)).to_contain_text(hashlib.sha256(PDF_V2).hexdigest()[:12])
    expect(versions.nth(1)).to_contain_text("第 1 版")
    expect(versions.nth(1)).to_contain_text("已被替换")
    expect(versions.nth(1)).to_contain_text("兴庆区项目单位填报人")
    assert_no_inline_script(editor)
    shot(editor, "evidence-replaced")
    first_id = row_id_of(api, pid, "立项批复（2026）.pdf")

    # --- the finance decision sees the stage's evidence beside the assessment, read-only -----------
    decider = signed_in(fresh_page, "xq.admin")
    go(decider, f"/projects/{pid}/assessment")
    expect(decider.get_by_test_id("decision-form")).to_be_visible()
    beside = decider.get_by_test_id("evidence-beside")
    expect(beside).to_contain_text("佐证材料（事前评估）")
    expect(beside.get_by_test_id("evidence-row")).to_have_count(2)
    expect(beside.get_by_test_id("evidence-row").filter(has_text="立项批复（2026 修订）.pdf")).to_have_count(
        1
    )
    expect(beside.get_by_test_id("required-立项依据")).to_have_attribute("data-present", "yes")
    expect(beside.get_by_test_id("preview")).to_have_count(2)
    expect(beside.get_by_test_id("delete")).to_have_count(0)
    expect(beside.get_by_test_id("replace")).to_have_count(0)
    shot(decider, "evidence-beside-decision")

    # --- the walls ------------------------------------------------------------------------------
    city = signed_in(fresh_page, "yc.admin")
    go(city, f"/projects/{pid}")
    city.get_by_test_id("tab-evidence").click()
    settle(city)
    expect(city.get_by_test_id("read-only-badge")).to_be_visible()
    city_panel = city.get_by_test_id("evidence-panel-assessment")
    expect(city_panel.get_by_test_id("evidence-row")).to_have_count(2)
    expect(city.get_by_test_id("upload-form")).to_have_count(0)
    expect(city.get_by_test_id("delete")).to_have_count(0)
    expect(city.get_by_test_id("replace")).to_have_count(0)
    expect(city_panel.get_by_test_id("download")).to_have_count(2)
    shot(city, "evidence-yc-admin")

    sibling = signed_in(fresh_page, "xx.admin")
    expect_document_status(sibling, 404)
    for path in (
        f"/evidence/projects/{pid}",
        f"/evidence/projects/{pid}/stages/assessment",
        f"/evidence/{first_id}/preview",
        f"/evidence/{first_id}/inline",
    ):
        response = sibling.goto(f"{live_server}{path}")
        assert response is not None and response.status == 404, path
        settle(sibling)

    # what the test caused on purpose: the 415 of the spoofed PDF (Chromium logs every XHR error
    # status), and the browser's own PDF viewer (an extension page, without the app's CSP) in the frame
    _expected(
        editor,
        r"^console error: Failed to load resource: .* status of 415 .*/api/v1/projects/\d+/evidence\)$",
    )
    # (Playwright sees the PDF frame's response as the viewer's stream, without its headers: the
    # inline response's own CSP is checked above through editor.request)
    _expected(editor, r"^page without CSP script-src 'self': 200 chrome-extension://", at_most=True)
    # the viewer's own requests are the browser's, never the app's, and Chromium sometimes aborts them
    _expected(editor, r"^request failed: chrome-extension://\S+ net::ERR_ABORTED$", at_most=True)
    # …and when the viewer takes over the frame it may abort the frame's own document request (the
    # inline route's bytes, hash and CSP are checked through editor.request above)
    _expected(editor, r"^request failed: http://[^/]+/evidence/\d+/inline net::ERR_ABORTED$", at_most=True)
    # real mode: 下载 is a 302 to the store's presigned URL, a download "navigation" to the S3 host
    # (no app CSP there, and Chromium aborts the navigation once it becomes a download)
    _expected(
        editor, r"^page without CSP script-src 'self': 200 http://\S+X-Amz-Signature=\w+$", at_most=True
    )
    _expected(editor, r"^request failed: http://\S+X-Amz-Signature=\w+ net::ERR_ABORTED$", at_most=True)
    _expected(
        editor, r"^page without CSP script-src 'self': 200 http://[^/]+/evidence/\d+/inline$", at_most=True
    )
    for pg in (editor, decider, city, sibling):
        assert pg.problems == [], pg.problems


def row_id(page: Any, testid: str) -> str:
    """The evidence id in the src of the preview element."""
    src = page.get_by_test_id(testid).get_attribute("src")
    return re.search(r"/evidence/(\d+)/inline", src).group(1)


def row_id_of(api: Any, project_id: int, filename: str) -> int:
    listed = api.as_user("xq.editor").get(f"/api/v1/projects/{project_id}/evidence?history=true").get_json()
    return next(e["id"] for e in listed if e["filename"] == filename)


def _expected(page: Any, pattern: str, *, at_most: bool = False) -> None:
    """Drop the problems this test provoked on purpose: exactly one (or, `at_most`, zero or more)."""
    hits = [p for p in page.problems if re.search(pattern, p)]
    assert at_most or len(hits) == 1, (pattern, page.problems)
    page.problems[:] = [p for p in page.problems if p not in hits]
