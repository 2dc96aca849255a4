"""Unit tests of the generated shim: what the real-AutoPkg test
(release/autopkg_test.go) cannot reach from one Linux machine. That test
runs every recipe scenario through real AutoPkg; these cover the binary
choice on other platforms, on PATH and in the error cases, the download's
failure modes (HTTPS only, tampered bytes, offline, not published, a
changed cache), the secret precedence, and values no recipe can put in
the env (sets, objects, control characters, 64-bit limits).

They load the shim the way AutoPkg does, over the minimal autopkglib
stand-in beside this file, so they need nothing but the standard library
and run on AutoPkg's Python 3.10 as well as later ones. Driven by
release/release_test.go, which sets SHIM_DIR (a shim rendered for test
pins, with bin/ holding the pinned files), RELEASE_HOST (loopback HTTPS
serving them under /download/; its CA in SSL_CERT_FILE), HOST_PLATFORM,
SIM_URL, SIM_CLIENT_ID, SIM_CLIENT_SECRET and AWS_ENDPOINT_URL_S3."""

import contextlib
import datetime
import hashlib
import importlib.util
import io
import os
import platform
import plistlib
import shutil
import sys
import tempfile
import unittest
from unittest import mock

import autopkglib

NAME = "JCDS2PackageUploader"
SHIM_DIR = os.environ["SHIM_DIR"]
SIM_URL = os.environ["SIM_URL"]
CLIENT_ID = os.environ["SIM_CLIENT_ID"]
CLIENT_SECRET = os.environ["SIM_CLIENT_SECRET"]
RELEASE_HOST = os.environ["RELEASE_HOST"]
HOST_PLATFORM = os.environ["HOST_PLATFORM"]  # linux/amd64 ...
# platform.system(), platform.machine() as this machine reports them.
HOST_UNAME = {"linux/amd64": ("Linux", "x86_64"), "linux/arm64": ("Linux", "aarch64"),
              "darwin/amd64": ("Darwin", "x86_64"), "darwin/arm64": ("Darwin", "arm64")}[HOST_PLATFORM]


def load_shim(directory=SHIM_DIR):
    """imp.load_source(Name, path) as AutoPkg does: module name = processor name."""
    path = os.path.join(directory, NAME + ".py")
    spec = importlib.util.spec_from_file_location(NAME, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def sha256(path):
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


class Layout(unittest.TestCase):
    """A temp copy of the shim with a bin/ the test fills, a clean PATH
    and a clean process environment for the shim's settings."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp()
        self.dir = os.path.join(self.tmp, "recipes")
        self.cache = os.path.join(self.tmp, "cache")
        os.makedirs(os.path.join(self.dir, "bin"))
        shutil.copy(os.path.join(SHIM_DIR, NAME + ".py"), self.dir)
        self.module = load_shim(self.dir)
        self.path_dir = os.path.join(self.tmp, "path")
        os.makedirs(self.path_dir)
        cleared = {k: v for k, v in os.environ.items() if not k.startswith("JCDS2_UPLOADER_")}
        cleared["PATH"] = self.path_dir
        patcher = mock.patch.dict(os.environ, cleared, clear=True)
        patcher.start()
        self.addCleanup(patcher.stop)

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def on(self, system, machine):
        patcher = mock.patch.multiple(platform, system=lambda: system, machine=lambda: machine)
        patcher.start()
        self.addCleanup(patcher.stop)

    def bundle(self, release_name, as_name=None):
        """Put the release's bin/release_name into this layout's bin/."""
        target = os.path.join(self.dir, "bin", as_name or release_name)
        os.symlink(os.path.join(SHIM_DIR, "bin", release_name), target)
        return target

    def script(self, directory, name, mode=0o755):
        path = os.path.join(directory, name)
        with open(path, "w") as handle:
            handle.write("#!/bin/sh\nexit 0\n")
        os.chmod(path, mode)
        return path

    def pick(self, **env):
        env.setdefault("CACHE_DIR", self.cache)
        processor = getattr(self.module, NAME)(env)
        path, trusted = processor.find_binary()
        processor.verify_binary(path, trusted)
        return path

    def refused(self, **env):
        with self.assertRaises(autopkglib.ProcessorError) as caught:
            self.pick(**env)
        return str(caught.exception)


class BinaryChoiceTest(Layout):
    def test_each_platform_picks_its_own_file(self):
        cases = [
            ("Linux", "x86_64", "jcds2-uploader-linux-amd64"),
            ("Linux", "amd64", "jcds2-uploader-linux-amd64"),
            ("Linux", "aarch64", "jcds2-uploader-linux-arm64"),
            ("Linux", "arm64", "jcds2-uploader-linux-arm64"),
            ("Darwin", "arm64", "jcds2-uploader"),
            ("Darwin", "x86_64", "jcds2-uploader"),
        ]
        for name in ("jcds2-uploader", "jcds2-uploader-linux-amd64", "jcds2-uploader-linux-arm64"):
            self.bundle(name)
        for system, machine, want in cases:
            with self.subTest(system=system, machine=machine):
                self.on(system, machine)
                self.assertEqual(self.pick(), os.path.join(self.dir, "bin", want))

    def test_a_file_is_pinned_to_its_own_platform(self):
        # The amd64 binary under the arm64 name is a pinned file, but not
        # the one pinned for that name.
        self.on("Linux", "aarch64")
        self.bundle("jcds2-uploader-linux-amd64", as_name="jcds2-uploader-linux-arm64")
        self.assertIn("does not trust", self.refused())

    def test_nothing_found_names_the_platform_and_every_place(self):
        self.on("Linux", "riscv64")
        message = self.refused()
        for part in ("linux/riscv64", "'riscv64'", "JCDS2_UPLOADER_PATH (not set",
                     os.path.join(self.dir, "bin", "jcds2-uploader-linux-riscv64") + " (no such file)",
                     "jcds2-uploader on PATH (not found)", "darwin, linux/amd64, linux/arm64"):
            self.assertIn(part, message)

    def test_path_is_used_when_it_is_the_pinned_build(self):
        self.on("Linux", "x86_64")
        on_path = os.path.join(self.path_dir, "jcds2-uploader")
        os.symlink(os.path.join(SHIM_DIR, "bin", "jcds2-uploader-linux-amd64"), on_path)
        self.assertEqual(self.pick(), on_path)
        # Another build on PATH (say, Homebrew's of another version) is
        # passed over: the release's own binary is downloaded instead.
        os.remove(on_path)
        self.script(self.path_dir, "jcds2-uploader")
        self.assertEqual(self.pick(), self.module_cache_path("linux/amd64"))
        # A bundled file wins over both.
        bundled = self.bundle("jcds2-uploader-linux-amd64")
        self.assertEqual(self.pick(), bundled)

    def module_cache_path(self, plat):
        name = self.module.PINNED[plat][0]
        return os.path.join(self.cache, self.module.CACHE_NAME, self.module.VERSION, name)

    def test_a_bundled_file_that_is_not_executable(self):
        self.on("Linux", "x86_64")
        self.script(os.path.join(self.dir, "bin"), "jcds2-uploader-linux-amd64", mode=0o644)
        self.assertIn("chmod +x", self.refused())

    def test_an_explicit_path_is_pinned_unless_given_its_own_hash(self):
        self.on("Linux", "x86_64")
        self.bundle("jcds2-uploader-linux-amd64")
        mine = self.script(self.tmp, "my-build")
        self.assertIn("does not trust", self.refused(JCDS2_UPLOADER_PATH=mine))
        self.assertEqual(self.pick(JCDS2_UPLOADER_PATH=mine, JCDS2_UPLOADER_SHA256=sha256(mine).upper()), mine)
        # From the process environment when AutoPkg's env lacks them (or has "").
        os.environ["JCDS2_UPLOADER_PATH"] = mine
        os.environ["JCDS2_UPLOADER_SHA256"] = sha256(mine)
        self.assertEqual(self.pick(JCDS2_UPLOADER_PATH=""), mine)
        # AutoPkg's env comes first.
        released = os.path.join(SHIM_DIR, "bin", "jcds2-uploader-linux-amd64")
        self.assertEqual(self.pick(JCDS2_UPLOADER_PATH=released), released)
        # A pinned release binary needs no hash of its own.
        del os.environ["JCDS2_UPLOADER_SHA256"]
        self.assertEqual(self.pick(JCDS2_UPLOADER_PATH=released), released)

    def test_explicit_path_errors(self):
        self.on("Linux", "x86_64")
        missing = os.path.join(self.tmp, "nope")
        self.assertIn("not an executable file", self.refused(JCDS2_UPLOADER_PATH=missing))
        mine = self.script(self.tmp, "my-build")
        self.assertIn("64 hex digits", self.refused(JCDS2_UPLOADER_PATH=mine, JCDS2_UPLOADER_SHA256="abc"))
        self.assertIn("JCDS2_UPLOADER_PATH is not", self.refused(JCDS2_UPLOADER_SHA256=sha256(mine)))


class DownloadTest(Layout):
    """The release binary fetched on first use, from the loopback host."""

    def setUp(self):
        super().setUp()
        self.on(*HOST_UNAME)
        self.key = self.module.platform_key(*self.module.host_platform())
        self.name, self.sha = self.module.PINNED[self.key]
        self.folder = os.path.join(self.cache, self.module.CACHE_NAME, self.module.VERSION)
        self.url = self.module.DOWNLOAD_URL
        self.addCleanup(setattr, self.module, "DOWNLOAD_URL", self.url)

    def left(self):
        return sorted(os.listdir(self.folder)) if os.path.isdir(self.folder) else []

    def test_first_use_downloads_verifies_and_caches(self):
        self.assertEqual(self.module.DOWNLOAD_URL, RELEASE_HOST + "/download/")
        path = self.pick()
        self.assertEqual(path, os.path.join(self.folder, self.name))
        self.assertEqual(sha256(path), self.sha)
        self.assertEqual(os.stat(path).st_mode & 0o777, 0o755)
        self.assertEqual(self.left(), [self.name])  # no temp file left
        # The next run takes the cache: no network needed.
        self.module.DOWNLOAD_URL = "https://127.0.0.1:9/"
        self.assertEqual(self.pick(), path)

    def test_github_style_redirect_to_https_is_followed(self):
        self.module.DOWNLOAD_URL = RELEASE_HOST + "/redirect/"
        self.assertEqual(sha256(self.pick()), self.sha)

    def test_other_bytes_are_deleted_never_made_executable(self):
        self.module.PINNED[self.key] = (self.name, "0" * 64)
        self.addCleanup(self.module.PINNED.__setitem__, self.key, (self.name, self.sha))
        message = self.refused()
        for part in ("refused the download of " + RELEASE_HOST + "/download/" + self.name,
                     "its SHA-256 is " + self.sha, "pins " + "0" * 64, "nothing was run"):
            self.assertIn(part, message)
        self.assertEqual(self.left(), [])

    def test_https_only(self):
        self.module.DOWNLOAD_URL = RELEASE_HOST.replace("https://", "http://") + "/download/"
        self.assertIn("must be https://", self.refused())
        self.module.DOWNLOAD_URL = RELEASE_HOST + "/redirect-to-http/"
        self.assertIn("refused a redirect to http://", self.refused())
        self.assertEqual(self.left(), [])

    def test_offline_says_what_to_do(self):
        self.module.DOWNLOAD_URL = "https://127.0.0.1:9/"
        message = self.refused()
        for part in ("could not download https://127.0.0.1:9/" + self.name, "offline", self.sha,
                     "JCDS2_UPLOADER_PATH"):
            self.assertIn(part, message)
        self.assertEqual(self.left(), [])

    def test_not_published(self):
        self.module.DOWNLOAD_URL = RELEASE_HOST + "/nothing-here/"
        message = self.refused()
        self.assertIn("answered 404", message)
        self.assertIn("Is release %s published?" % self.module.VERSION, message)

    def test_a_cached_binary_changed_since_is_refused(self):
        path = self.pick()
        with open(path, "ab") as handle:
            handle.write(b"\0")
        message = self.refused()
        self.assertIn("changed after it was downloaded and verified", message)
        self.assertIn("Delete it", message)

    def test_an_unreleased_shim_names_what_to_do(self):
        with mock.patch.multiple(self.module, VERSION="", PINNED={}):
            message = self.refused()
        self.assertIn("pins no release", message)
        self.assertIn("JCDS2_UPLOADER_SHA256", message)


# An echo "binary": writes what it got on stdin to $DUMP and sends it all
# back, secrets included (the real one withholds them).
ECHO = """#!%s
import os, plistlib, sys
data = sys.stdin.buffer.read()
with open(os.environ["DUMP"], "wb") as handle:
    handle.write(data)
env = plistlib.loads(data)
env["echoed"] = "yes"
sys.stdout.buffer.write(plistlib.dumps(env, fmt=plistlib.FMT_BINARY))
"""


class SecretsTest(Layout):
    def run_echo(self, env):
        echo = os.path.join(self.tmp, "echo")
        with open(echo, "w") as handle:
            handle.write(ECHO % sys.executable)
        os.chmod(echo, 0o755)
        os.environ["DUMP"] = os.path.join(self.tmp, "dump.plist")
        env.update(JCDS2_UPLOADER_PATH=echo, JCDS2_UPLOADER_SHA256=sha256(echo), JSS_URL="https://x.invalid")
        processor = getattr(self.module, NAME)(env)
        with contextlib.redirect_stdout(io.StringIO()):
            env = processor.process()
        with open(os.environ["DUMP"], "rb") as handle:
            return env, plistlib.load(handle)

    def test_secrets_are_not_declared(self):
        cls = getattr(self.module, NAME)
        for name in ("API_PASSWORD", "CLIENT_SECRET", "BEARER_TOKEN", "SMB_PASSWORD", "SMB_SHARES"):
            self.assertNotIn(name, cls.input_variables)
            self.assertIn(name, cls.description)
        for name, flags in cls.input_variables.items():
            self.assertIn("required", flags, name)  # AutoPackager.verify() needs it

    def test_autopkg_env_first_then_the_process_environment(self):
        os.environ.update(CLIENT_SECRET="from-process-env", API_PASSWORD="pw-from-process-env",
                          BEARER_TOKEN="tok-from-process-env")
        env, sent = self.run_echo({"CLIENT_SECRET": "from-autopkg-env", "API_PASSWORD": ""})
        self.assertEqual(sent["CLIENT_SECRET"], "from-autopkg-env")
        self.assertEqual(sent["API_PASSWORD"], "pw-from-process-env")  # "" counts as absent
        self.assertEqual(sent["BEARER_TOKEN"], "tok-from-process-env")
        # Nothing from the process environment lands in AutoPkg's env,
        # even from a binary that echoes it back.
        self.assertEqual(env["CLIENT_SECRET"], "from-autopkg-env")
        self.assertEqual(env["API_PASSWORD"], "")
        self.assertNotIn("BEARER_TOKEN", env)
        self.assertEqual(env["echoed"], "yes")


class RoundTripTest(unittest.TestCase):
    """Through the release's real binary (dry_run against the simulator)."""

    def test_every_plist_type_round_trips(self):
        tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, tmp)
        pkg = os.path.join(tmp, "Types.pkg")
        with open(pkg, "wb") as handle:
            handle.write(b"types" * 100)
        values = {
            "an_int": 42,
            "a_negative": -7,
            "a_big": (1 << 64) - 1,
            "a_float": 3.25,
            "a_bool": False,
            "some_bytes": b"\x00\x01\xff",
            "a_date": datetime.datetime(2026, 11, 23, 16, 39, 3),
            "a_list": ["a", 1, ["nested"], {"k": "v"}],
            "a_dict": {"inner": {"deep": True}, "empty": []},
            "unicode": "Grüße, 日本語, 📦",
            "control": "bell\a and escape\x1b",
        }
        unsendable = {"a_set": {1, 2}, "an_object": object(), "nothing": None, "too_big": 1 << 64}
        env = {"JSS_URL": SIM_URL, "CLIENT_ID": CLIENT_ID, "CLIENT_SECRET": CLIENT_SECRET, "pkg_path": pkg,
               "RECIPE_CACHE_DIR": os.path.join(tmp, "cache"), "verbose": 0, "dry_run": True}
        env.update(values)
        env.update(unsendable)
        processor = getattr(load_shim(), NAME)(env)
        with contextlib.redirect_stdout(io.StringIO()):
            env = processor.process()
        self.assertEqual(env["pkg_upload_status"], "dry run")
        for key, value in values.items():
            self.assertEqual(env[key], value, key)
        for key, value in unsendable.items():
            self.assertIs(env[key], value, key)  # never sent, so never touched
        self.assertEqual(env["CLIENT_SECRET"], CLIENT_SECRET)  # withheld by the binary, kept here


if __name__ == "__main__":
    unittest.main()
