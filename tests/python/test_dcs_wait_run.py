"""The Python example (examples/python/dcs_wait_run.py) against a real dcs-sim, with the
dcs-wait and dcs-sim that `pip install` put on PATH. Run by .ci/run inside the virtual
environment it installed the wheel into: python -m unittest discover -s tests/python
"""

import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "examples", "python"))
import dcs_wait_run  # noqa: E402


class AgainstDcsSim(unittest.TestCase):
    # A dcs-sim of its own for each test: the scripted jobs start at their first request.
    def setUp(self):
        cls = self
        cls.sim = subprocess.Popen(
            ["dcs-sim"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
        banner = []
        for line in cls.sim.stdout:
            banner.append(line)
            if line.startswith("Or authenticate"):
                break
        # What a person copies from the banner: the settings on its export lines.
        cls.env = {
            "PATH": os.environ["PATH"],
            "DCS_WAIT_NO_HISTORY": "true",
            "DCS_WAIT_METADATA_ENDPOINT": "off",
            "HOME": "/nonexistent",
        }
        for word in " ".join(banner).split():
            name, sep, value = word.partition("=")
            if sep and name.isupper():
                cls.env[name] = value
        cls.commands = [
            line.split("#")[0].split()[1:]
            for line in banner
            if line.strip().startswith("dcs-wait ")
        ]

    def tearDown(self):
        self.sim.terminate()
        self.sim.wait()
        self.sim.stdout.close()

    def test_a_job_that_succeeds(self):
        code, reports = dcs_wait_run.dcs_wait(self.commands[0][0], env=self.env)
        self.assertEqual(code, dcs_wait_run.SUCCESS)
        self.assertEqual(reports[0]["outcome"], "success")
        self.assertEqual(reports[0]["duration_ms"], 2800)

    def test_a_job_that_fails_says_why(self):
        code, reports = dcs_wait_run.dcs_wait(self.commands[1][0], env=self.env)
        self.assertEqual(code, dcs_wait_run.FAILED)
        self.assertIn("Resize failed", reports[0]["fail_reason"])

    def test_a_swap_names_its_job(self):
        swap = next(c for c in self.commands if c[0] == "swap")
        code, reports = dcs_wait_run.dcs_wait(*swap, timeout="1m", env=self.env)
        self.assertEqual(code, dcs_wait_run.SUCCESS)
        self.assertEqual(reports[0]["instance_id"], swap[1])
        self.assertTrue(reports[0]["job_id"])

    def test_a_deadline_is_exit_3(self):
        code, reports = dcs_wait_run.dcs_wait(
            self.commands[0][0], timeout="1s", env=self.env
        )
        self.assertEqual(code, dcs_wait_run.TIMEOUT)
        self.assertEqual(reports[0]["outcome"], "timeout")

    def test_a_bad_id_is_a_usage_error_with_no_report(self):
        code, reports = dcs_wait_run.dcs_wait("not/an/id", env=self.env)
        self.assertEqual(code, dcs_wait_run.USAGE)
        self.assertEqual(reports, [])


if __name__ == "__main__":
    unittest.main()
