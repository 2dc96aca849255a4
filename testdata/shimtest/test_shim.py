"""Tests of the generated shim, loaded the way AutoPkg loads processors,
running the real binary against the simulator. Driven by
release/release_test.go, which sets SHIM_DIR, SIM_URL, MANIFEST_JSON and
the AWS_ENDPOINT_URL_S3 of the simulator."""

import contextlib
import datetime
import importlib.util
import io
import json
import os
import plistlib
import shutil
import sys
import tempfile
import unittest

import autopkglib

NAME = "JCDS2PackageUploader"
SHIM_DIR = os.environ["SHIM_DIR"]
SIM_URL = os.environ["SIM_URL"]
CLIENT_ID = os.environ["SIM_CLIENT_ID"]
CLIENT_SECRET = os.environ["SIM_CLIENT_SECRET"]
USER = os.environ["SIM_USER"]
PASSWORD = os.environ["SIM_PASSWORD"]
MANIFEST = json.loads(os.environ["MANIFEST_JSON"])
RECIPES = os.environ["RECIPES_DIR"]


def load_shim(directory=SHIM_DIR):
    """imp.load_source(Name, path) as AutoPkg does: module name = processor name."""
    path = os.path.join(directory, NAME + ".py")
    spec = importlib.util.spec_from_file_location(NAME, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, NAME)


def make_pkg(directory, name, size, seed):
    path = os.path.join(directory, name)
    with open(path, "wb") as handle:
        handle.write(bytes((i * 31 + seed) % 251 for i in range(size)))
    return path


class ShimTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp()
        self.cls = load_shim()

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def env(self, pkg, **extra):
        env = {
            "JSS_URL": SIM_URL,
            "CLIENT_ID": CLIENT_ID,
            "CLIENT_SECRET": CLIENT_SECRET,
            "pkg_path": pkg,
            "RECIPE_CACHE_DIR": os.path.join(self.tmp, "cache"),
            "NAME": "ShimTest",
            "version": "1.0",
            "verbose": 1,
            "jcds2_verify_timeout": "30",
        }
        env.update(extra)
        return env

    def run_step(self, env, arguments=None):
        """One recipe step: construct with the shared env, inject, process."""
        processor = self.cls(env)
        processor.inject(arguments or {})
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            env = processor.process()
        return processor, env, out.getvalue()

    def test_declarations_follow_the_manifest(self):
        self.assertEqual(self.cls.description.strip(), MANIFEST["description"])
        for entry in MANIFEST["inputs"]:
            declared = self.cls.input_variables[entry["name"]]
            self.assertIn("required", declared, entry["name"])  # verify() needs it
            self.assertEqual(declared["required"], entry["required"])
            if "default" in entry:
                self.assertEqual(declared["default"], entry["default"], entry["name"])
        for entry in MANIFEST["outputs"]:
            self.assertIn(entry["name"], self.cls.output_variables)
        self.assertIn("jamfpackageuploader_summary_result", self.cls.output_variables)

    def test_upload_defaults_outputs_summary_and_a_later_step(self):
        pkg = make_pkg(self.tmp, "Shim App 1.0.pkg", 6 << 20, 1)
        env = self.env(pkg, CATEGORY="Testing")
        _, env, printed = self.run_step(env, {"pkg_category": "%CATEGORY%"})
        self.assertIs(env["pkg_uploaded"], True)
        self.assertIs(env["pkg_metadata_updated"], True)
        self.assertEqual(env["replace_pkg"], "False")  # default applied by process()
        self.assertEqual(env["pkg_category"], "Testing")
        self.assertIn("JCDS2PackageUploader: Uploading Shim App 1.0.pkg", printed)
        summary = env["jamfpackageuploader_summary_result"]
        self.assertEqual(summary["summary_text"], "The following packages were uploaded to or updated in Jamf Pro:")
        for field in summary["report_fields"]:
            self.assertIsInstance(summary["data"][field], str, field)
        # A later step's %var% sees the outputs (strings, as AutoPkg needs).
        later = autopkglib.Processor(env)
        later.inject({"message": "%pkg_name% is package %pkg_id%"})
        self.assertEqual(env["message"], "Shim App 1.0.pkg is package " + env["pkg_id"])
        # Re-run: nothing to do, and the stale summary is gone.
        _, env, _ = self.run_step(env)
        self.assertIs(env["pkg_uploaded"], False)
        self.assertNotIn("jamfpackageuploader_summary_result", env)
        self.assertEqual(env["CLIENT_SECRET"], CLIENT_SECRET)  # secrets stay in the env

    def test_every_plist_type_round_trips(self):
        pkg = make_pkg(self.tmp, "Types.pkg", 4096, 2)
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
        unsendable = {"a_set": {1, 2}, "an_object": object(), "nothing": None}
        env = self.env(pkg, dry_run=True, **values)
        env.update(unsendable)
        _, env, _ = self.run_step(env)
        for key, value in values.items():
            self.assertEqual(env[key], value, key)
        for key, value in unsendable.items():
            self.assertIs(env[key], value, key)  # never sent, so never touched

    def test_failure_raises_processor_error(self):
        env = self.env(os.path.join(self.tmp, "Missing.pkg"))
        with self.assertRaises(autopkglib.ProcessorError) as caught:
            self.run_step(env)
        self.assertIn("does not exist", str(caught.exception))
        with self.assertRaises(autopkglib.ProcessorError) as caught:
            self.run_step({})
        self.assertEqual(str(caught.exception), "JCDS2PackageUploader requires JSS_URL")

    def test_tampered_binary_is_refused(self):
        copy = os.path.join(self.tmp, "processors")
        shutil.copytree(SHIM_DIR, copy)
        with open(os.path.join(copy, "bin", "jcds2-uploader"), "ab") as handle:
            handle.write(b"\x00")
        cls = load_shim(copy)
        pkg = make_pkg(self.tmp, "Tamper.pkg", 100, 3)
        processor = cls(self.env(pkg, JCDS2_UPLOADER_PATH=os.path.join(copy, "bin", "jcds2-uploader")))
        with self.assertRaises(autopkglib.ProcessorError) as caught:
            processor.process()
        self.assertIn("does not trust", str(caught.exception))

    def test_secrets_are_never_printed(self):
        pkg = make_pkg(self.tmp, "Secret.pkg", 6 << 20, 4)
        for verbose in range(5):
            env = self.env(pkg, verbose=verbose, replace_pkg=True, SMB_PASSWORD="smb-secret-9876")
            del env["CLIENT_ID"], env["CLIENT_SECRET"]
            env["API_USERNAME"], env["API_PASSWORD"] = USER, PASSWORD
            _, env, printed = self.run_step(env)
            for secret in (PASSWORD, CLIENT_SECRET, "smb-secret-9876"):
                self.assertNotIn(secret, printed, "verbose %d" % verbose)
            self.assertEqual(env["API_PASSWORD"], PASSWORD)


class RecipeTest(unittest.TestCase):
    """The recipes parse as AutoPkg parses them."""

    def load(self, path):
        if path.endswith(".yaml"):
            import yaml  # AutoPkg bundles PyYAML; Debian: python3-yaml

            with open(path, encoding="utf-8") as handle:
                return yaml.safe_load(handle)
        with open(path, "rb") as handle:
            return plistlib.load(handle)

    def recipes(self):
        found = []
        for folder, _, files in os.walk(RECIPES):
            for name in files:
                if name.endswith((".recipe", ".recipe.yaml", ".recipe.plist")):
                    found.append(os.path.join(folder, name))
        return sorted(found)

    def test_recipes_parse(self):
        recipes = self.recipes()
        self.assertGreaterEqual(len(recipes), 3, recipes)
        for path in recipes:
            recipe = self.load(path)
            self.assertIsInstance(recipe, dict, path)
            self.assertIsInstance(recipe.get("MinimumVersion"), str, path)
            self.assertIn("Identifier", recipe, path)
            for step in recipe.get("Process", []):
                self.assertIn("Processor", step, path)

    def test_stub_recipe_is_found_by_identifier(self):
        # find_recipe_by_identifier scans depth <= 1 below a search dir.
        matches = []
        for pattern_dir in [RECIPES] + [os.path.join(RECIPES, d) for d in os.listdir(RECIPES)]:
            if not os.path.isdir(pattern_dir):
                continue
            for name in os.listdir(pattern_dir):
                if name.endswith((".recipe", ".recipe.yaml", ".recipe.plist")):
                    recipe = self.load(os.path.join(pattern_dir, name))
                    if recipe.get("Identifier") == "com.github.jcds2-uploader.processors":
                        matches.append(pattern_dir)
        self.assertEqual(len(matches), 1, matches)
        self.assertTrue(os.path.isfile(os.path.join(matches[0], NAME + ".py")))

    def test_steps_use_the_shared_processor(self):
        for path in self.recipes():
            for step in self.load(path).get("Process", []):
                if step["Processor"].endswith(NAME):
                    self.assertEqual(step["Processor"], "com.github.jcds2-uploader.processors/" + NAME, path)


if __name__ == "__main__":
    unittest.main()
