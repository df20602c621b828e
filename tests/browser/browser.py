"""browser.py: headless Chromium (Debian's chromium and chromium-driver, python3-selenium) for the console tests.

The browser trusts exactly the node's TLS key (--ignore-certificate-errors-spki-list with its SPKI hash),
keeps a fresh profile per Browser, records every request the pages make (the performance log), and saves
screenshots into the build's meson-logs folder, naming each in the test output.
"""
import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

try:
    from selenium import webdriver
    from selenium.common.exceptions import TimeoutException, WebDriverException
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError:
    print("SKIP: python3-selenium is not installed (scripts/test.sh installs it)")
    sys.exit(77)

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
if not CHROMIUM or not DRIVER:
    print("SKIP: chromium and chromium-driver are not installed (scripts/test.sh installs them)")
    sys.exit(77)

LOGDIR = os.path.join(os.environ.get("XBUS_BUILD_ROOT", tempfile.gettempdir()), "meson-logs")


def spki_hash(cert_path):
    """base64 SHA-256 of the certificate's SubjectPublicKeyInfo (what Chromium's SPKI list takes)."""
    pub = subprocess.run(["openssl", "x509", "-in", cert_path, "-pubkey", "-noout"], check=True,
                         capture_output=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"], input=pub, check=True,
                         capture_output=True).stdout
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


class Browser:
    def __init__(self, cert_path, downloads=None):
        self.profile = tempfile.mkdtemp(prefix="xbus-chromium-")
        self.downloads = downloads or os.path.join(self.profile, "downloads")
        os.makedirs(self.downloads, exist_ok=True)
        o = Options()
        o.binary_location = CHROMIUM
        for a in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                  "--no-first-run", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--disable-extensions", "--window-size=1280,1000",
                  "--user-data-dir=" + self.profile,
                  "--ignore-certificate-errors-spki-list=" + spki_hash(cert_path)]:
            o.add_argument(a)
        o.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
        self.driver = webdriver.Chrome(service=Service(DRIVER), options=o)
        self.driver.set_page_load_timeout(60)
        self.driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": self.downloads})
        self.requests = []  # every URL a page asked for, from the performance log

    def quit(self):
        try:
            self.collect()
            self.driver.quit()
        finally:
            shutil.rmtree(self.profile, ignore_errors=True)

    def collect(self):
        """Move the performance log's requests into self.requests."""
        for e in self.driver.get_log("performance"):
            m = json.loads(e["message"])["message"]
            if m.get("method") == "Network.requestWillBeSent":
                doc = m["params"].get("documentURL", "")
                if doc.startswith(("chrome://", "chrome-untrusted://", "about:")):
                    continue  # the browser's own pages (the new-tab page it starts with), not the console's
                self.requests.append(m["params"]["request"]["url"])
        return self.requests

    def get(self, url):
        self.driver.get(url)

    def find(self, css):
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def finds(self, css):
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def wait(self, cond, timeout=30, what="condition"):
        try:
            return WebDriverWait(self.driver, timeout, poll_frequency=0.1,
                                 ignored_exceptions=(WebDriverException,)).until(lambda d: cond())
        except TimeoutException:
            raise AssertionError("timed out waiting for %s; console: %s" % (what, self.console_log()))

    def visible(self, css):
        try:
            return self.find(css).is_displayed()
        except WebDriverException:
            return False

    def wait_visible(self, css, timeout=30):
        return self.wait(lambda: self.visible(css), timeout, css + " visible")

    def verdict(self, css, timeout=30):
        """'verified' or 'not-verified', once the verdict box at css has one."""
        def done():
            try:
                v = self.find(css).get_attribute("data-verdict")
                return v if v in ("verified", "not-verified") and "working" not in self.find(css).get_attribute("class") else None
            except WebDriverException:
                return None
        return self.wait(done, timeout, "a verdict in " + css)

    def script(self, js, *args):
        return self.driver.execute_script(js, *args)

    def fetch(self, path, csrf="none", method="GET"):
        """A fetch() from the page (same origin, with its cookie): [status, body text]."""
        return self.driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "fetch(arguments[0], {method: arguments[2], headers: {'X-Xbus-Csrf': arguments[1]}, credentials: 'same-origin'})"
            ".then(r => r.text().then(t => done([r.status, t]))).catch(e => done([0, String(e)]));",
            path, csrf, method)

    def screenshot(self, name):
        os.makedirs(LOGDIR, exist_ok=True)
        path = os.path.join(LOGDIR, "console-%s.png" % name)
        self.driver.save_screenshot(path)
        print("screenshot: %s" % path)
        return path

    def console_log(self):
        try:
            return [e["message"] for e in self.driver.get_log("browser")][-10:]
        except WebDriverException:
            return []


def outside(urls, origins):
    """The URLs that are not of the given origins (blob: URLs of those origins are theirs)."""
    bad = []
    for u in urls:
        if u.startswith("data:"):
            continue  # bytes in the page itself (Chromium's own calendar icon of a date input), never a load
        v = u[5:] if u.startswith("blob:") else u
        if not any(v == o or v.startswith(o + "/") for o in origins):
            bad.append(u)
    return bad


def wait_for_file(folder, suffix, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        done = [f for f in os.listdir(folder) if f.endswith(suffix)]
        if done:
            return os.path.join(folder, done[0])
        time.sleep(0.1)
    raise AssertionError("no %s file in %s" % (suffix, folder))
