"""The workbench in a real browser: headless Chromium from the OS packages, driven by Selenium.

An analyst types a rule with a unit mismatch and sees the located error, fixes it, decides a
shipment and reads the outcome and its citation, and compares two versions. Screenshots go
to a temporary folder, and to docs/img/ under `pytest --update-goldens`.
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest

from chiprules.serve import Logs, Served, Settings, create_app

from .conftest import ROOT
from .serving import running

CHROMIUM, DRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
INSTALL = "apt-get install -y chromium chromium-driver (scripts/test does it)"
RULE = '\nclassify 3A090.z "Fast chips"\n  cite "15 CFR 774 Supp. 1"\n  when tpp >= 600 GB/s'

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def browser():
    if not (Path(CHROMIUM).exists() or shutil.which("chromium")) or not Path(DRIVER).exists():
        pytest.fail(f"the browser test needs Chromium and its driver from the OS packages: {INSTALL}")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1400,2400", "--force-device-scale-factor=1"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


@pytest.fixture
def shots(update_goldens, tmp_path):
    folder = ROOT / "docs" / "img" if update_goldens else tmp_path

    def shot(element, name: str) -> None:
        element.parent.execute_script("arguments[0].scrollIntoView()", element)
        element.screenshot(str(folder / name))
        assert (folder / name).stat().st_size > 5_000

    return shot


def test_an_analyst_edits_checks_decides_and_compares(browser, shots):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    served = Served(ROOT / "rules" / "ear", interval=0)
    app = create_app(served, Settings(token="page-token"), Logs(io.StringIO()))
    with running(app) as url:
        wait = WebDriverWait(browser, 60)
        by_id = lambda name: browser.find_element(By.ID, name)  # noqa: E731
        browser.get(url + "/?token=page-token")
        assert "token" not in browser.current_url  # taken out of the address bar
        wait.until(lambda b: by_id("source").get_attribute("value").startswith("#"))
        wait.until(lambda b: "PASS" in by_id("examples").text)
        assert "FAIL" not in by_id("examples").text

        # a rule with a unit mismatch: the error is listed with its place, and underlined
        editor = by_id("source")
        editor.click()
        editor.send_keys(Keys.CONTROL, Keys.END)
        editor.send_keys(RULE)
        wait.until(lambda b: "E204" in by_id("diagnostics").text)
        text = editor.get_attribute("value")
        line = text.count("\n") + 1
        item = by_id("diagnostics").find_element(By.CSS_SELECTOR, "li")
        assert f".rules:{line}:15 error[E204] cannot compare TPP with GB/s" in item.text
        assert "help: this quantity is measured in TPP" in item.text
        marked = by_id("highlight").find_elements(By.CSS_SELECTOR, ".diag-error")
        assert [m.text for m in marked] == ["600 GB/s"]
        assert "E204: cannot compare TPP with GB/s" in marked[0].get_attribute("title")
        assert by_id("check-summary").text == "1 error"
        browser.execute_script("arguments[0].scrollTop = arguments[0].scrollHeight", editor)
        editor.send_keys(Keys.LEFT * 3)  # the caret inside the mistake: its message below the editor
        assert by_id("at-caret").text == (f"{line}:15 error[E204]: cannot compare TPP with GB/s · "
                                          "help: this quantity is measured in TPP")
        mark, box = marked[0].rect, editor.rect  # and under the mouse (the text area lies over the marks)
        dx = mark["x"] + mark["width"] / 2 - (box["x"] + box["width"] / 2)
        dy = mark["y"] + mark["height"] / 2 - (box["y"] + box["height"] / 2)
        ActionChains(browser).move_to_element_with_offset(editor, int(dx), int(dy)).perform()
        wait.until(lambda b: by_id("tip").is_displayed())
        assert by_id("tip").text.startswith(f"{line}:15 error[E204]: cannot compare TPP with GB/s")
        shots(by_id("rules-panel"), "workbench-error.png")
        editor.send_keys(Keys.CONTROL, Keys.END)

        # fixed: the error goes, and the examples run again, showing what the new rule changes
        editor.send_keys(Keys.BACKSPACE * len(" GB/s"))
        wait.until(lambda b: "E204" not in by_id("diagnostics").text and "FAIL" in by_id("examples").text)
        assert not by_id("highlight").find_elements(By.CSS_SELECTOR, ".diag-error")
        assert by_id("check-summary").text == "no problems"
        assert "3A090.z" in by_id("examples").text  # the new classification, in the actual outcomes

        # a shipment decided: the outcome and its citation
        form = by_id("shipment")
        for name, value in (("export_date", "2024-01-10"), ("chip", "NVIDIA H100 SXM"), ("destination", "CN"),
                            ("end_user", "Example Cloud Ltd."), ("end_user_hq", "CN")):
            field = form.find_element(By.NAME, name)
            field.clear()
            field.send_keys(value)
        by_id("decide").click()
        wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, "#decisions .decision"))
        decision = browser.find_element(By.CSS_SELECTOR, "#decisions .decision")
        assert decision.get_attribute("data-outcome") == "license_required"
        assert "license required" in decision.text and "classified 3A090.a" in decision.text
        assert "cite: 15 CFR 742.6(a)(6)(iii)" in decision.text
        assert "review presumption of denial" in decision.text
        shots(by_id("decide-panel"), "workbench-decision.png")

        # the same shipment tried on the edited text, not saved: the new rule classifies it too
        by_id("use-draft").click()
        date = form.find_element(By.NAME, "export_date")
        date.clear()
        date.send_keys("2026-08-01")
        by_id("decide").click()
        wait.until(lambda b: "decided by the edited text of 2026-07-14" in by_id("decisions").text)
        assert "classified 3A090.a, 3A090.z" in by_id("decisions").text
        by_id("use-draft").click()

        # pasted CSV records: one decision each, in order
        by_id("paste-box").find_element(By.TAG_NAME, "summary").click()
        by_id("paste").send_keys('id,chip,destination,export_date,end_user,end_user_hq\n'
                                 'P-1,NVIDIA A100 SXM,CN,2023-12-01,"Example Cloud, Ltd.",\n'
                                 'P-2,NVIDIA H100 SXM,DE,2024-01-10,Max Planck Society,DE\n')
        by_id("decide").click()
        wait.until(lambda b: len(b.find_elements(By.CSS_SELECTOR, "#decisions .decision")) == 2)
        pasted = browser.find_elements(By.CSS_SELECTOR, "#decisions .decision")
        assert [d.get_attribute("data-outcome") for d in pasted] == ["license_required", "no_license_required"]
        assert pasted[0].text.startswith("P-1") and pasted[1].text.startswith("P-2")
        by_id("paste-box").find_element(By.TAG_NAME, "summary").click()

        # two versions compared: what changed, and the regions with their witnesses
        by_id("diff-old").send_keys("2023-11-17")
        by_id("diff-new").send_keys("2024-03-15")
        by_id("diff").click()
        wait.until(lambda b: "Outcome changes" in by_id("diff-out").text)
        out = by_id("diff-out").text
        assert "gains Nicaragua (NI)" in out
        assert "witness (verified under both versions)" in out
        shots(by_id("diff-panel"), "workbench-diff.png")

        by_id("plot").click()
        wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, "#plot-out img"))
        wait.until(lambda b: b.execute_script(
            "const i = document.querySelector('#plot-out img'); return i.complete && i.naturalWidth > 0"))
        by_id("screen").click()
        wait.until(lambda b: "possible" in by_id("screenings").text)
        browser.execute_script("window.scrollTo(0, 0)")
        shots(browser.find_element(By.TAG_NAME, "body"), "workbench.png")
        errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
        assert not errors, errors
