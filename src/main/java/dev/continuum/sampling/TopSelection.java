package dev.continuum.sampling;

/** Sorting of candidate token indices by descending probability without boxing. */
final class TopSelection {
    private TopSelection() {
    }

    /**
     * Reorders {@code idx[0..n)} so that its first {@code min(k, n)} entries are the most probable, sorted
     * descending (ties by lower index). Returns that count. Quickselect first, so a small k costs O(n).
     */
    static int partialSortDescending(int[] idx, float[] p, int n, int k) {
        int m = Math.min(k, n);
        if (m < n) {
            select(idx, p, 0, n - 1, m);
        }
        sort(idx, p, 0, m - 1);
        return m;
    }

    private static boolean before(float[] p, int a, int b) {
        return p[a] > p[b] || (p[a] == p[b] && a < b);
    }

    /** Moves the m best entries of idx[lo..hi] into idx[lo..lo+m). */
    private static void select(int[] idx, float[] p, int lo, int hi, int m) {
        while (lo < hi) {
            long bounds = partition(idx, p, lo, hi);
            int i = (int) (bounds >>> 32);
            int j = (int) bounds;
            if (m - 1 <= j) {
                hi = j;
            } else if (m - 1 >= i) {
                lo = i;
            } else {
                return;
            }
        }
    }

    private static void sort(int[] idx, float[] p, int lo, int hi) {
        while (lo < hi) {
            if (hi - lo < 16) {
                for (int a = lo + 1; a <= hi; a++) {
                    int v = idx[a];
                    int b = a - 1;
                    while (b >= lo && before(p, v, idx[b])) {
                        idx[b + 1] = idx[b];
                        b--;
                    }
                    idx[b + 1] = v;
                }
                return;
            }
            long bounds = partition(idx, p, lo, hi);
            int i = (int) (bounds >>> 32);
            int j = (int) bounds;
            if (j - lo < hi - i) {
                sort(idx, p, lo, j);
                lo = i;
            } else {
                sort(idx, p, i, hi);
                hi = j;
            }
        }
    }

    /**
     * Hoare partition of idx[lo..hi] around its middle element; returns (i << 32) | (j & 0xffffffff) where
     * idx[lo..j] come before and idx[i..hi] after the pivot. Packed in a long so nothing is allocated.
     */
    private static long partition(int[] idx, float[] p, int lo, int hi) {
        int pivot = idx[(lo + hi) >>> 1];
        int i = lo;
        int j = hi;
        while (i <= j) {
            while (before(p, idx[i], pivot)) {
                i++;
            }
            while (before(p, pivot, idx[j])) {
                j--;
            }
            if (i <= j) {
                int t = idx[i];
                idx[i] = idx[j];
                idx[j] = t;
                i++;
                j--;
            }
        }
        return ((long) i << 32) | (j & 0xffffffffL);
    }
}
