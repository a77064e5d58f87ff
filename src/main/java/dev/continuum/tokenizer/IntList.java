package dev.continuum.tokenizer;

import java.util.Arrays;

/** A growable int array, so that collecting token ids does not box them. */
final class IntList {
    private int[] values;
    private int size;

    IntList(int capacity) {
        values = new int[Math.max(4, capacity)];
    }

    void add(int value) {
        if (size == values.length) {
            values = Arrays.copyOf(values, size * 2);
        }
        values[size++] = value;
    }

    /** Drops the values from index size on. */
    void truncate(int size) {
        this.size = size;
    }

    int size() {
        return size;
    }

    int[] toArray() {
        return Arrays.copyOf(values, size);
    }
}
