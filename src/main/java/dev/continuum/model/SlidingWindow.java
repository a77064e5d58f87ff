package dev.continuum.model;

/**
 * Which layers attend only to a window of recent positions, and how wide it is. A token at position {@code p} in
 * a windowed layer attends to positions {@code p - size + 1 .. p} ({@code size} positions, itself included), as
 * llama.cpp masks them ({@code pos - cell.pos >= n_swa} is cut off).
 *
 * @param size        positions a windowed layer attends to; 0 when no layer is windowed
 * @param globalEvery 0 when every layer is windowed (Mistral, Phi-3); otherwise every {@code globalEvery}-th layer
 *                    ({@code (layer + 1) % globalEvery == 0}) attends to the whole context and the others are
 *                    windowed: 2 for Gemma 2 (even layers local), 6 for Gemma 3 (five local, one global)
 */
public record SlidingWindow(int size, int globalEvery) {
    /** No layer windowed. */
    public static final SlidingWindow NONE = new SlidingWindow(0, 0);

    public SlidingWindow {
        if (size < 0 || globalEvery < 0) {
            throw new IllegalArgumentException("invalid model config: sliding window " + size + " every "
                    + globalEvery);
        }
    }

    /** Every layer windowed to {@code size} positions. */
    public static SlidingWindow everyLayer(int size) {
        return new SlidingWindow(size, 0);
    }

    /** Positions layer {@code layer} attends to at most: {@link Integer#MAX_VALUE} for a global layer. */
    public int positionsFor(int layer) {
        if (size == 0 || (globalEvery > 0 && (layer + 1) % globalEvery == 0)) {
            return Integer.MAX_VALUE;
        }
        return size;
    }

    @Override
    public String toString() {
        return size == 0 ? "none" : size + " positions" + (globalEvery == 0 ? ", every layer"
                : ", every layer but each " + globalEvery + "th");
    }
}
