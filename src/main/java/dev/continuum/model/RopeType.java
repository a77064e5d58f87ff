package dev.continuum.model;

/** How rotary position embeddings pair up the elements of a head. */
public enum RopeType {
    /** Adjacent pairs (x[2i], x[2i+1]): Meta's original Llama layout, llama.cpp's LLAMA_ROPE_TYPE_NORM. */
    INTERLEAVED,
    /** Split halves (x[i], x[i + d/2]): GPT-NeoX and Hugging Face layouts, llama.cpp's LLAMA_ROPE_TYPE_NEOX. */
    NEOX,
    /** No rotation: positions come from learned embeddings (GPT-2), llama.cpp's LLAMA_ROPE_TYPE_NONE. */
    NONE
}
