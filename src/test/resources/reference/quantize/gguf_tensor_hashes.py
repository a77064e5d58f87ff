#!/usr/bin/env python3
"""Prints a GGUF file's tensors in file order as TSV: name, ggml type id, sha256 of the tensor's bytes.
A first line '#file<TAB>sha256' gives the whole file's hash. Standard library only."""
import hashlib, struct, sys

FIXED = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}
BLOCK = {0: (1, 4), 1: (1, 2), 2: (32, 18), 3: (32, 20), 6: (32, 22), 7: (32, 24), 8: (32, 34), 10: (256, 84),
         11: (256, 110), 12: (256, 144), 13: (256, 176), 14: (256, 210), 20: (32, 18), 30: (1, 2)}

def main(path):
    data = open(path, 'rb').read()
    pos = 8
    n_tensors, n_kv = struct.unpack_from('<QQ', data, pos); pos += 16
    alignment = 32
    def skip(pos, t):
        if t in FIXED: return pos + FIXED[t]
        if t == 8: return pos + 8 + struct.unpack_from('<Q', data, pos)[0]
        et, n = struct.unpack_from('<IQ', data, pos); pos += 12
        for _ in range(n): pos = skip(pos, et)
        return pos
    for _ in range(n_kv):
        klen = struct.unpack_from('<Q', data, pos)[0]; key = data[pos + 8:pos + 8 + klen].decode(); pos += 8 + klen
        t = struct.unpack_from('<I', data, pos)[0]; pos += 4
        if key == 'general.alignment': alignment = struct.unpack_from('<I', data, pos)[0]
        pos = skip(pos, t)
    infos = []
    for _ in range(n_tensors):
        nlen = struct.unpack_from('<Q', data, pos)[0]; name = data[pos + 8:pos + 8 + nlen].decode(); pos += 8 + nlen
        nd = struct.unpack_from('<I', data, pos)[0]; pos += 4
        dims = struct.unpack_from('<%dQ' % nd, data, pos); pos += 8 * nd
        t, off = struct.unpack_from('<IQ', data, pos); pos += 12
        infos.append((name, dims, t, off))
    start = (pos + alignment - 1) // alignment * alignment
    print('#file\t' + hashlib.sha256(data).hexdigest())
    for name, dims, t, off in infos:
        n = 1
        for d in dims: n *= d
        bs, bb = BLOCK[t]
        size = n // bs * bb
        print('%s\t%d\t%s' % (name, t, hashlib.sha256(data[start + off:start + off + size]).hexdigest()))

main(sys.argv[1])
