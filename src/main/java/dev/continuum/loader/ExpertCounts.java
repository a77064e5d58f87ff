package dev.continuum.loader;

/**
 * A mixture-of-experts file's {@code expert_count} and {@code expert_used_count} (Mixtral's keys under the
 * architecture's prefix), checked before anything is sized from them: the count against the experts the tensor
 * table holds (the third dimension of {@code blk.0.ffn_up_exps.weight}) and llama.cpp's limit of 256, the used
 * count between 1 and the count. A dense file has neither key (or a count of 0) and no expert tensors.
 *
 * @param count experts per layer; 0 for a dense feed-forward
 * @param used  experts each token is routed to; 0 when dense
 */
record ExpertCounts(int count, int used) {
    /** llama.cpp's {@code LLAMA_MAX_EXPERTS}: no file it reads has more. */
    static final int MAX_EXPERTS = 256;
    static final String GATE = "blk.0.ffn_gate_exps.weight";
    static final String UP = "blk.0.ffn_up_exps.weight";

    static ExpertCounts read(LlamaConfigReader r) {
        int count = r.has("expert_count") ? r.file().metadata().getInt(r.key("expert_count")) : 0;
        if (count == 0) {
            int used = r.has("expert_used_count") ? r.file().metadata().getInt(r.key("expert_used_count")) : 0;
            if (used != 0) {
                throw r.invalid("expert_used_count", used, "be 0 when " + r.key("expert_count") + " is 0");
            }
            return new ExpertCounts(0, 0);
        }
        if (count <= 0 || count > MAX_EXPERTS) {
            throw r.invalid("expert_count", count, "be between 1 and " + MAX_EXPERTS);
        }
        GgufTensorInfo up = r.file().tensor(UP);
        long held = up.dims().length == 3 ? up.dims()[2] : 1;
        if (up.dims().length != 3 || held != count) {
            throw r.invalid("expert_count", count, "equal the experts of tensor '" + UP + "' (its third dimension: "
                    + held + ")");
        }
        int used = r.positive("expert_used_count");
        if (used > count) {
            throw r.invalid("expert_used_count", used, "be at most " + r.key("expert_count") + " " + count);
        }
        return new ExpertCounts(count, used);
    }
}
