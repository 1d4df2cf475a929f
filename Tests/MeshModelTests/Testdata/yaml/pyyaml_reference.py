#!/usr/bin/env python3
"""PyYAML's reading of YAML, for meshlab's differential tests (YAMLDifferentialTests.swift).

usage: pyyaml_reference.py FILE...   one output line per file, in order
       pyyaml_reference.py -         stdin holds a JSON array of YAML texts; one line per text

Each output line is either
    OK <canonical JSON of the list of documents>
or
    ERR <line> <column> <message on one line>     (line/column 0 when PyYAML gives no mark)

The documents are what yaml.safe_load_all returns, made comparable with meshlab's
JSONValue the same way the Swift side does it (keep the two in step):
  - floats become the string "float:<IEEE-754 bits as 16 hex digits>" ("float:nan" for
    any NaN), so that no float formatting can differ; ints outside int64 become floats
    first (meshlab keeps integers that overflow Int as doubles), +/-inf past the range;
  - timestamps stay their text: PyYAML's own timestamp constructor still runs, so an
    invalid date fails exactly as in safe_load, but its datetime is replaced by the text
    (JSON has no time type; meshlab keeps the text);
  - !!binary bytes become canonical base64 text;
  - mapping keys become strings as json.dumps writes dict keys (1 -> "1", True ->
    "true", None -> "null", 1.5 -> "1.5");
  - !!set becomes a mapping to null; tuples (from !!omap / !!pairs) become lists.
Canonical JSON = json.dumps(sort_keys=True, separators=(',', ':'), ensure_ascii=False),
which is what JSONFormat.canonical writes on the Swift side.
"""
import base64
import json
import math
import struct
import sys

import yaml


class Loader(yaml.SafeLoader):
    """yaml.SafeLoader, except that a timestamp's value is its (validated) text."""


def _timestamp(loader, node):
    yaml.constructor.SafeConstructor.construct_yaml_timestamp(loader, node)
    return loader.construct_scalar(node)


Loader.add_constructor('tag:yaml.org,2002:timestamp', _timestamp)


def _float(f):
    if math.isnan(f):
        return 'float:nan'
    return 'float:' + struct.pack('>d', f).hex()


def _key(k):
    if isinstance(k, str):
        return k
    if k is True:
        return 'true'
    if k is False:
        return 'false'
    if k is None:
        return 'null'
    if isinstance(k, int):
        return str(k)
    if isinstance(k, float):
        if math.isnan(k):
            return 'NaN'
        if math.isinf(k):
            return 'Infinity' if k > 0 else '-Infinity'
        return repr(k)
    if isinstance(k, bytes):
        return base64.b64encode(k).decode('ascii')
    raise TypeError('key of type %s' % type(k).__name__)


def _normalise(x):
    if x is None or isinstance(x, (bool, str)):
        return x
    if isinstance(x, int):
        if -2**63 <= x < 2**63:
            return x
        try:
            return _float(float(x))
        except OverflowError:
            return _float(math.copysign(math.inf, x))
    if isinstance(x, float):
        return _float(x)
    if isinstance(x, bytes):
        return base64.b64encode(x).decode('ascii')
    if isinstance(x, (list, tuple)):
        return [_normalise(i) for i in x]
    if isinstance(x, dict):
        return {_key(k): _normalise(v) for k, v in x.items()}
    if isinstance(x, (set, frozenset)):
        return {_key(k): None for k in x}
    raise TypeError('value of type %s' % type(x).__name__)


def _outcome(stream):
    try:
        documents = [_normalise(d) for d in yaml.load_all(stream, Loader=Loader)]
        text = json.dumps(documents, sort_keys=True, separators=(',', ':'), ensure_ascii=False)
        text.encode('utf-8')  # lone surrogates from \uD800 escapes cannot be written
        return 'OK ' + text
    except Exception as exc:  # any failure of PyYAML counts: meshlab must fail too
        mark = getattr(exc, 'problem_mark', None)
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (0, 0)
        message = ' '.join(str(exc).split()) or type(exc).__name__
        return 'ERR %d %d %s: %s' % (line, column, type(exc).__name__, message)


def main():
    sys.stdout.reconfigure(encoding='utf-8', errors='backslashreplace')
    if sys.argv[1:] == ['-']:
        for text in json.loads(sys.stdin.buffer.read().decode('utf-8')):
            print(_outcome(text))
    else:
        for path in sys.argv[1:]:
            with open(path, 'rb') as f:
                print(_outcome(f.read()))


if __name__ == '__main__':
    main()
