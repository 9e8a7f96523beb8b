"""Every test and every notebook runs offline, in us-east-1, whatever the learner's shell exports.

The committed notebook outputs are made on the moto backend in us-east-1, and the test suite
must never reach a real account: variables that choose a backend, a region, a profile or the
real-account opt-in are cleared here, before any kernel starts (kernels inherit this environment).
"""

import os
import tempfile

for _name in (
    "LAB_BACKEND",
    "AWS_REGION",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "LABBOOK_ALLOW_AWS",
    "LABBOOK_AWS_ACCOUNT_ID",
    "LABBOOK_HTTP_ENDPOINT_URL",
    "AWS_ENDPOINT_URL",
):
    os.environ.pop(_name, None)
os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
# records of real-account runs (helpers.runs) made by tests stay out of the user's home
os.environ["LABBOOK_HOME"] = tempfile.mkdtemp(prefix="labbook-tests-")
