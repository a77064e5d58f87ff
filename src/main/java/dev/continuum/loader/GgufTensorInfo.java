package dev.continuum.loader;

import dev.continuum.tensor.GgmlType;

/**
 * One tensor of a GGUF file: {@code dims[0]} is the innermost (contiguous) dimension, as in ggml.
 * {@code offset} is absolute in the file.
 */
public record GgufTensorInfo(String name, long[] dims, GgmlType type, long offset, long byteSize) {
    public long elementCount() {
        long n = 1;
        for (long d : dims) {
            n *= d;
        }
        return n;
    }

    /** Rows of the matrix view: the product of all dimensions but the first. */
    public long rows() {
        return elementCount() / dims[0];
    }

    public long columns() {
        return dims[0];
    }
}
