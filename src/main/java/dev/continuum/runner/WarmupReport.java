package dev.continuum.runner;

/**
 * What a runner's warm-up did, for logs.
 *
 * @param seconds wall time of the whole warm-up
 * @param detail  what it ran, in the runner's own words (kernel calls, decode steps)
 */
public record WarmupReport(double seconds, String detail) {
    public WarmupReport {
        if (!(seconds >= 0) || detail == null) {
            throw new IllegalArgumentException("a warm-up report needs a duration and a detail");
        }
    }
}
