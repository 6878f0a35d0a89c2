"""Generates the cffi API-mode C source of fastgrad._C from csrc/fastgrad.h.

Run by CMake at build time: python build_ffi.py <fastgrad.h> <output.c>. The header is the only
declaration of the C API; cffi reads it as is, less its preprocessor lines.
"""
import sys

import cffi


def main(header_path, out_path):
    with open(header_path) as f:
        header = f.read()
    declarations = "\n".join(line for line in header.splitlines() if not line.lstrip().startswith("#"))
    ffi = cffi.FFI()
    ffi.cdef(declarations)
    ffi.set_source("fastgrad._C", '#include "fastgrad.h"')
    ffi.emit_c_code(out_path)


if __name__ == "__main__":
    main(*sys.argv[1:])
