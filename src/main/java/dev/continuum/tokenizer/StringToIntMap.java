package dev.continuum.tokenizer;

/**
 * An open-addressing hash map from strings to non-negative ints, so that looking up a token text in the
 * tokenizer's inner loops neither boxes nor allocates.
 */
final class StringToIntMap {
    private final String[] keys;
    private final int[] values;
    private final int mask;

    StringToIntMap(int expectedSize) {
        int capacity = Integer.highestOneBit(Math.max(4, expectedSize * 2 - 1)) << 1;
        keys = new String[capacity];
        values = new int[capacity];
        mask = capacity - 1;
    }

    /** Sets the value of key, replacing an earlier one (so with duplicate token texts the last id wins, as in llama.cpp). */
    void put(String key, int value) {
        int i = slot(key);
        keys[i] = key;
        values[i] = value;
    }

    /** The value of key, or -1. */
    int get(String key) {
        int i = slot(key);
        return keys[i] == null ? -1 : values[i];
    }

    private int slot(String key) {
        int h = key.hashCode();
        int i = (h ^ (h >>> 16)) & mask;
        while (keys[i] != null && !keys[i].equals(key)) {
            i = (i + 1) & mask;
        }
        return i;
    }
}
