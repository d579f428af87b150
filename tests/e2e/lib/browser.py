"""A real headless Chromium driven over the DevTools protocol on a pipe
(--remote-debugging-pipe: commands on fd 3, answers on fd 4, each message
NUL-terminated), with nothing but the standard library.

    with Browser(width=1400, height=900) as b:
        b.open("http://127.0.0.1:PORT/")
        b.wait("document.querySelectorAll('tr.prod').length == 7", 20)
        b.screenshot("page.png")
"""
import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import time


class BrowserError(Exception):
    pass


def chromium_path():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        p = shutil.which(name)
        if p:
            return p
    return None


class Browser:
    def __init__(self, width=1400, height=900, timeout=30):
        exe = chromium_path()
        if not exe:
            raise BrowserError("no chromium on PATH (apt-get install chromium)")
        self.profile = tempfile.mkdtemp(prefix="hb-chromium.")
        self.timeout = timeout
        self.width, self.height = width, height
        cmd_r, self.cmd_w = os.pipe()
        self.res_r, res_w = os.pipe()
        # copies above 10 so that moving them to 3 and 4 overwrites nothing
        hi_cmd = fcntl.fcntl(cmd_r, fcntl.F_DUPFD, 10)
        hi_res = fcntl.fcntl(res_w, fcntl.F_DUPFD, 10)

        def child_fds():
            os.dup2(hi_cmd, 3)
            os.dup2(hi_res, 4)

        self.log = open(os.path.join(self.profile, "chromium.log"), "wb")
        self.proc = subprocess.Popen(
            [exe, "--headless", "--remote-debugging-pipe", "--no-sandbox",
             "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
             "--no-default-browser-check", "--disable-extensions",
             "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--mute-audio", "--hide-scrollbars",
             "--user-data-dir=" + self.profile,
             "--window-size=%d,%d" % (width, height), "about:blank"],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log,
            preexec_fn=child_fds, pass_fds=(3, 4, hi_cmd, hi_res))
        for fd in (cmd_r, res_w, hi_cmd, hi_res):
            os.close(fd)
        self.next_id = 0
        self.buf = b""
        self.session = None

    # ---- protocol ------------------------------------------------------
    def _read_msg(self, deadline):
        while b"\0" not in self.buf:
            left = deadline - time.time()
            if left <= 0 or not select.select([self.res_r], [], [], left)[0]:
                raise BrowserError("chromium did not answer in time")
            chunk = os.read(self.res_r, 1 << 16)
            if not chunk:
                raise BrowserError("chromium closed the pipe (exit %s)" % self.proc.poll())
            self.buf += chunk
        msg, self.buf = self.buf.split(b"\0", 1)
        return json.loads(msg)

    def send(self, method, params=None, session=True):
        self.next_id += 1
        m = {"id": self.next_id, "method": method, "params": params or {}}
        if session and self.session:
            m["sessionId"] = self.session
        os.write(self.cmd_w, json.dumps(m).encode() + b"\0")
        deadline = time.time() + self.timeout
        while True:
            r = self._read_msg(deadline)
            if r.get("id") == self.next_id:
                if "error" in r:
                    raise BrowserError("%s: %s" % (method, r["error"]))
                return r.get("result", {})

    # ---- page ------------------------------------------------------------
    def open(self, url):
        if self.session is None:
            t = self.send("Target.createTarget", {"url": "about:blank"}, session=False)
            a = self.send("Target.attachToTarget", {"targetId": t["targetId"], "flatten": True},
                          session=False)
            self.session = a["sessionId"]
            self.send("Page.enable")
            self.send("Emulation.setDeviceMetricsOverride",
                      {"width": self.width, "height": self.height, "deviceScaleFactor": 1,
                       "mobile": False})
        self.send("Page.navigate", {"url": url})

    def eval(self, expr):
        r = self.send("Runtime.evaluate", {"expression": expr, "returnByValue": True,
                                           "awaitPromise": True})
        if "exceptionDetails" in r:
            raise BrowserError("%s: %s" % (expr, r["exceptionDetails"].get("text")))
        return r["result"].get("value")

    def wait(self, expr, secs, what=None):
        """Polls a JavaScript expression until it is true; returns its value."""
        deadline = time.time() + secs
        last = None
        while time.time() < deadline:
            try:
                last = self.eval(expr)
                if last:
                    return last
            except BrowserError as e:
                last = str(e)
            time.sleep(0.2)
        raise BrowserError("timed out after %ss waiting for %s (last: %r)" %
                           (secs, what or expr, last))

    def screenshot(self, path, full_page=True):
        params = {"format": "png"}
        if full_page:
            m = self.send("Page.getLayoutMetrics")
            size = m.get("cssContentSize") or m.get("contentSize")
            params["clip"] = {"x": 0, "y": 0, "width": self.width,
                              "height": max(self.height, int(size["height"])), "scale": 1}
            params["captureBeyondViewport"] = True
        data = self.send("Page.captureScreenshot", params)["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))

    def close(self):
        try:
            if self.proc.poll() is None:
                try:
                    self.send("Browser.close", session=False)
                except (BrowserError, OSError):
                    pass
                try:
                    self.proc.wait(5)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
        finally:
            os.close(self.cmd_w)
            os.close(self.res_r)
            self.log.close()
            shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
