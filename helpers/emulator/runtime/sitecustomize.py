"""Loaded first in every offline Lambda worker (the folder is on PYTHONPATH, as /var/runtime is
on AWS): it hides log lines that only the emulator causes, so handler logs read as on AWS."""

import logging


class _HideEndpointOverride(logging.Filter):
    """botocore logs where the endpoint came from; offline it is AWS_ENDPOINT_URL, on AWS not."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Found endpoint for")


logging.getLogger("botocore.configprovider").addFilter(_HideEndpointOverride())
