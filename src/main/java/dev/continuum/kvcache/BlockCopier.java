package dev.continuum.kvcache;

/** Copies one KV block's data into another, in whatever storage holds it (the model runner's). */
@FunctionalInterface
public interface BlockCopier {
    void copy(int src, int dst);
}
