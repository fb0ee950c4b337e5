"""kws: an open keyword-spotting SDK.

Train a wake-word model in Python, quantize it to int8, and deploy a bit-exact C front end and
runtime on a Cortex-M4.
"""

__version__ = "0.1.0"
