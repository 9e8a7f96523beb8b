"""What a handler can import: only what AWS's Python runtime has, its package and its layers.

Contract: the Lambda Python runtime provides the standard library, the AWS SDK (boto3, botocore
and their dependencies) and the runtime interface client; any other library must be in the
deployment package or a layer, or the init phase fails with errorType
`Runtime.ImportModuleError`, errorMessage "Unable to import module 'app': No module named 'PIL'".
The package (/var/task) comes first on the import path, so a bundled library takes precedence
over the runtime's; layers add /opt/python/lib/python3.X/site-packages and /opt/python.
Compiled modules must match the function's runtime.
https://docs.aws.amazon.com/lambda/latest/dg/python-package.html
https://docs.aws.amazon.com/lambda/latest/dg/python-layers.html
https://docs.aws.amazon.com/lambda/latest/dg/packaging-layers.html
"""

from __future__ import annotations

import base64
import io
import json
import sys
import zipfile
from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from PIL import Image

import helpers

FUNCTIONS = Path(__file__).parent / "functions"
THIS_RUNTIME = f"python{sys.version_info.major}.{sys.version_info.minor}"
OTHER_RUNTIME = "python3.13" if THIS_RUNTIME == "python3.12" else "python3.12"
RUNTIME_PROVIDED = [
    "boto3",
    "botocore",
    "s3transfer",
    "jmespath",
    "dateutil",
    "six",
    "urllib3",
    "awslambdaric",
    "simplejson",
]
COURSE_ONLY = ["PIL", "requests", "moto", "helpers", "pytest", "numpy"]


def _invoke(lab: helpers.Lab, name: str, event: dict) -> tuple[dict, object]:
    resp = lab.client("lambda").invoke(FunctionName=name, Payload=json.dumps(event).encode())
    return resp, json.loads(resp["Payload"].read())


def _photo() -> bytes:
    """A real photograph (Grace Hopper, shipped in matplotlib's wheel) as JPEG bytes."""
    import matplotlib

    return (Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg").read_bytes()


def _zip(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    return buf.getvalue()


@pytest.fixture(scope="module")
def pillow_package() -> bytes:
    """thumbnail.py with Pillow bundled for the runtime this machine's Python can run."""
    return helpers.package(
        FUNCTIONS / "thumbnail.py",
        handler="thumbnail.handler",
        requirements=["pillow"],
        runtime=THIS_RUNTIME,
    )


def test_a_handler_importing_pil_without_bundling_it_fails_as_on_aws(lab, deploy):
    """GIVEN thumbnail.py zipped alone WHEN invoked THEN Lambda's init error: Pillow is in the
    course's Python, not in AWS's runtime."""
    name = deploy("no-pillow", "thumbnail.py", handler="thumbnail.handler")

    resp, body = _invoke(lab, name, {"image": ""})

    assert resp["StatusCode"] == 200
    assert resp["FunctionError"] == "Unhandled"
    assert body == {
        "errorMessage": "Unable to import module 'thumbnail': No module named 'PIL'",
        "errorType": "Runtime.ImportModuleError",
        "requestId": "",
        "stackTrace": [],
    }


def test_the_same_handler_with_pillow_bundled_makes_a_thumbnail(lab, deploy, pillow_package):
    """GIVEN package(..., requirements=["pillow"]) WHEN invoked with a photo THEN a JPEG that
    fits 128x128 comes back, made by the Pillow inside the package."""
    name = deploy(
        "with-pillow", handler="thumbnail.handler", code=pillow_package, Runtime=THIS_RUNTIME
    )
    photo = _photo()

    resp, body = _invoke(lab, name, {"image": base64.b64encode(photo).decode()})

    assert "FunctionError" not in resp, body
    thumb = Image.open(io.BytesIO(base64.b64decode(body["thumbnail"])))
    original = Image.open(io.BytesIO(photo))
    assert thumb.format == "JPEG"
    assert max(thumb.size) == 128 and list(thumb.size) == body["size"]
    ratio = original.size[0] / original.size[1]
    assert abs(thumb.size[0] / thumb.size[1] - ratio) < 0.02  # the aspect ratio is kept


def test_boto3_and_what_the_runtime_provides_import_without_bundling(lab, deploy):
    """GIVEN a zip holding only the handler WHEN it imports the SDK and the runtime client's
    libraries THEN each imports, as on AWS."""
    name = deploy("provided", "importer.py", handler="importer.handler")

    resp, body = _invoke(lab, name, {"modules": RUNTIME_PROVIDED})

    assert "FunctionError" not in resp, body
    failed = {m: r for m, r in body.items() if not isinstance(r, dict)}
    assert failed == {}
    assert body["boto3"]["version"]  # the runtime's boto3, whatever its version


def test_the_course_python_packages_are_not_visible_to_a_handler(lab, deploy):
    """GIVEN libraries installed for the course (Pillow, requests, moto, helpers...) WHEN a
    handler imports them without bundling THEN each is missing, as on AWS."""
    name = deploy("course-only", "importer.py", handler="importer.handler")

    resp, body = _invoke(lab, name, {"modules": COURSE_ONLY})

    assert "FunctionError" not in resp, body
    assert body == {m: f"ModuleNotFoundError: No module named '{m}'" for m in COURSE_ONLY}


def test_a_bundled_library_takes_precedence_over_the_runtime_one(lab, deploy):
    """GIVEN a package holding its own jmespath WHEN the handler imports jmespath THEN it gets
    the bundled one: /var/task comes before the runtime's libraries."""
    handler = (FUNCTIONS / "importer.py").read_text()
    code = _zip({"importer.py": handler, "jmespath.py": "__version__ = 'bundled'\n"})
    name = deploy("bundled-sdk-lib", handler="importer.handler", code=code)

    _, body = _invoke(lab, name, {"modules": ["jmespath"]})

    assert body == {"jmespath": {"version": "bundled"}}


def test_a_layer_site_packages_folder_of_the_functions_python_is_importable(lab, deploy):
    """GIVEN a layer with python/lib/python3.X/site-packages/labsite.py for the function's
    runtime WHEN the handler imports labsite THEN it works; the same file under another
    Python version's folder is not on the path."""
    version = OTHER_RUNTIME  # the function's runtime names the folder, not the machine's Python
    layer = lab.client("lambda").publish_layer_version(
        LayerName=lab.name("sitelayer"),
        Content={
            "ZipFile": _zip(
                {
                    f"python/lib/{version}/site-packages/labsite.py": "__version__ = 'layer'\n",
                    "python/lib/python3.9/site-packages/oldsite.py": "__version__ = 'old'\n",
                }
            )
        },
        CompatibleRuntimes=[version],
    )
    name = deploy(
        "site-layer",
        "importer.py",
        handler="importer.handler",
        Runtime=version,
        Layers=[layer["LayerVersionArn"]],
    )

    _, body = _invoke(lab, name, {"modules": ["labsite", "oldsite"]})

    assert body == {
        "labsite": {"version": "layer"},
        "oldsite": "ModuleNotFoundError: No module named 'oldsite'",
    }


def test_modules_compiled_for_another_python_do_not_load(lab, deploy, pillow_package):
    """GIVEN Pillow built for this Python WHEN the function declares another python3.x THEN
    its compiled core is not loaded, and the init fails as it would on AWS."""
    name = deploy(
        "wrong-python", handler="thumbnail.handler", code=pillow_package, Runtime=OTHER_RUNTIME
    )

    resp, body = _invoke(lab, name, {"image": ""})

    assert resp["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.ImportModuleError"
    assert body["errorMessage"].startswith("Unable to import module 'thumbnail': ")
    assert "_imaging" in body["errorMessage"]
    assert "/var/task/PIL/" in body["errorMessage"]


def test_modules_compiled_for_a_python_the_machine_lacks_are_refused_by_name(lab, deploy):
    """GIVEN a package compiled for the function's runtime, which this machine's Python is not
    WHEN invoked offline THEN InvalidRuntimeException names the module and the fix."""
    tag = OTHER_RUNTIME.removeprefix("python").replace(".", "")
    so = f"fast/_core.cpython-{tag}-x86_64-linux-gnu.so"
    code = _zip({"importer.py": (FUNCTIONS / "importer.py").read_text(), so: ""})
    name = deploy("compiled-other", handler="importer.handler", code=code, Runtime=OTHER_RUNTIME)

    with pytest.raises(ClientError) as err:
        _invoke(lab, name, {"modules": []})

    assert err.value.response["Error"]["Code"] == "InvalidRuntimeException"
    message = err.value.response["Error"]["Message"]
    assert so in message and f"PYTHON={OTHER_RUNTIME}" in message
