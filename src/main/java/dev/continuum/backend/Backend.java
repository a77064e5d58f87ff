package dev.continuum.backend;

import java.util.Locale;

/**
 * Which backend runs the model ({@code --backend}, property {@code continuum.backend}).
 * <ul>
 *   <li>{@link #AUTO}: the GPU when the CUDA driver and a device answer, else the CPU, with one warning naming
 *   why;</li>
 *   <li>{@link #CPU}: the Vector API kernels;</li>
 *   <li>{@link #CUDA}: the GPU or nothing: without one the load fails with the reason (and {@code /health} reports
 *   it), never silently serving from the CPU.</li>
 * </ul>
 */
public enum Backend {
    AUTO,
    CPU,
    CUDA;

    /** Parses {@code auto}, {@code cpu} or {@code cuda} (any case). */
    public static Backend parse(String text) {
        try {
            return valueOf(text.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException | NullPointerException e) {
            throw new IllegalArgumentException("unknown backend '" + text + "': use auto, cpu or cuda");
        }
    }

    public String text() {
        return name().toLowerCase(Locale.ROOT);
    }
}
