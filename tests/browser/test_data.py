"""Usage data in the page: upload with progress, refusals that say why, drag and drop, the
demo, and data that carries HTML shown as text."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.conftest import OpenPage, ask, sign_up

HEADER = ["timestamp", "model", "input_tokens", "output_tokens", "cost_usd", "feature", "user"]

# Records every text the upload status shows, to see the progress go by.
STATUS_LOG = """() => {
  window.__status = [];
  const status = document.querySelector('.upload-status');
  new MutationObserver(() => window.__status.push(status.textContent))
    .observe(status, {childList: true, characterData: true, subtree: true});
}"""


def usage_csv(rows: int, model: str = "gpt-4o-2024-08-06", feature: str = "chat") -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    for i in range(rows):
        day = 1 + (i * 30) // rows
        writer.writerow(
            [
                f"2026-09-{day:02d}T{i % 24:02d}:00:00Z",
                model,
                900 + i % 300,
                120,
                "0.004200",
                feature,
                f"u{i % 7}",
            ]
        )
    return out.getvalue()


def choose_file(page: Page, path: Path) -> None:
    with page.expect_file_chooser() as chooser:
        page.locator("#data-panel").get_by_role("button", name="Upload a usage file…").click()
    chooser.value.set_files(str(path))


def test_an_upload_shows_its_progress_then_the_dataset_summary(
    new_page: OpenPage, tmp_path: Path, page_errors: list[str]
) -> None:
    path = tmp_path / "usage.csv"
    path.write_text(usage_csv(120_000))
    page = new_page()
    sign_up(page, "upload")
    page.evaluate(STATUS_LOG)
    choose_file(page, path)
    status = page.locator(".upload-status")
    expect(status).to_have_attribute("data-kind", "success", timeout=60_000)
    expect(status).to_contain_text("Imported usage.csv: 120,000 rows")
    seen = page.evaluate("window.__status")
    assert any("Uploading usage.csv" in text for text in seen), seen
    summary = page.locator(".dataset-summary")
    expect(summary).to_contain_text("120,000")
    expect(summary).to_contain_text("2026-09-01")
    expect(summary.locator(".chip")).to_have_text(["gpt-4o-2024-08-06"])
    assert page_errors == []


def test_a_refused_file_says_what_is_wrong_and_imports_nothing(
    new_page: OpenPage, tmp_path: Path
) -> None:
    path = tmp_path / "broken.csv"
    path.write_text(
        "timestamp,model,input_tokens,output_tokens\n"
        "2026-09-01T00:00:00Z,gpt-4o,100,20\n"
        "2026-09-02T00:00:00Z,gpt-4o,lots,20\n"
    )
    page = new_page()
    sign_up(page, "refused")
    choose_file(page, path)
    status = page.locator(".upload-status")
    expect(status).to_have_attribute("data-kind", "error", timeout=30_000)
    expect(status).to_contain_text("broken.csv was refused")
    expect(status).to_contain_text("line 3")
    expect(status).to_contain_text("Nothing was imported")
    expect(page.locator(".dataset-summary")).to_contain_text("No usage data yet")


def test_a_file_dropped_on_the_data_panel_is_uploaded(new_page: OpenPage) -> None:
    page = new_page()
    sign_up(page, "drop")
    page.evaluate(
        """(text) => {
          const transfer = new DataTransfer();
          transfer.items.add(new File([text], 'dropped.csv', {type: 'text/csv'}));
          const panel = document.getElementById('data-panel');
          for (const type of ['dragenter', 'dragover', 'drop']) {
            panel.dispatchEvent(new DragEvent(type, {dataTransfer: transfer, bubbles: true,
                                                     cancelable: true}));
          }
        }""",
        usage_csv(500),
    )
    expect(page.locator(".upload-status")).to_contain_text(
        "Imported dropped.csv: 500 rows", timeout=30_000
    )


def test_html_in_the_data_shows_as_text_everywhere_and_never_runs(
    new_page: OpenPage, tmp_path: Path, page_errors: list[str]
) -> None:
    model = '<img src=x onerror="window.__pwned=1">'
    feature = "<script>window.__pwned=2</script>"
    path = tmp_path / "hostile.csv"
    path.write_text(usage_csv(300, model=model, feature=feature))
    page = new_page()
    sign_up(page, "hostile")
    choose_file(page, path)
    expect(page.locator(".upload-status")).to_have_attribute("data-kind", "success", timeout=30_000)
    expect(page.locator(".dataset-summary .chip")).to_have_text([model])

    ask(page, "What did we spend per model and per feature?")
    run = page.locator(".turn .run").last
    expect(run).to_have_attribute("data-status", "completed", timeout=60_000)
    expect(run.locator(".answer")).to_contain_text(model)
    expect(page.locator(".report")).to_be_visible()
    expect(page.locator(".report")).to_contain_text(model[:20])
    page.hover(".report")
    page.wait_for_timeout(300)
    assert page.evaluate("window.__pwned") is None
    assert page.locator("#app-view img, #app-view script, #app-view iframe").count() == 0
    assert page_errors == []
