package dev.continuum.model;

import dev.continuum.tensor.GgmlType;
import dev.continuum.tensor.WeightTensor;

import java.util.EnumSet;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Set;

/** All weights of a Llama-family model; {@code output} is the token embedding itself when tied. */
public record LlamaWeights(WeightTensor tokenEmbedding, LayerWeights[] layers, float[] outputNorm, WeightTensor output) {

    /**
     * These weights with every matrix the forward pass multiplies repacked in place into the layout the vector
     * kernels read ({@link WeightTensor#interleaved}); the token embedding is repacked only when it is also the
     * output matrix. The original tensors must not be used afterwards.
     */
    public LlamaWeights interleaved() {
        Map<WeightTensor, WeightTensor> done = new IdentityHashMap<>();
        LayerWeights[] repacked = new LayerWeights[layers.length];
        for (int l = 0; l < layers.length; l++) {
            LayerWeights w = layers[l];
            repacked[l] = new LayerWeights(w.attnNorm(),
                    repack(done, w.wq()), repack(done, w.wk()), repack(done, w.wv()),
                    w.bq(), w.bk(), w.bv(),
                    repack(done, w.wo()), w.ffnNorm(),
                    repack(done, w.gate()), repack(done, w.up()), repack(done, w.down()), w.qNorm(), w.kNorm());
        }
        WeightTensor out = repack(done, output);
        return new LlamaWeights(done.getOrDefault(tokenEmbedding, tokenEmbedding), repacked, outputNorm, out);
    }

    /** The weight types of every matrix the forward pass multiplies. */
    public Set<GgmlType> matrixTypes() {
        EnumSet<GgmlType> types = EnumSet.of(output.type());
        for (LayerWeights w : layers) {
            for (WeightTensor t : new WeightTensor[] {w.wq(), w.wk(), w.wv(), w.wo(), w.gate(), w.up(), w.down()}) {
                types.add(t.type());
            }
        }
        return types;
    }

    private static WeightTensor repack(Map<WeightTensor, WeightTensor> done, WeightTensor t) {
        return done.computeIfAbsent(t, WeightTensor::interleaved);
    }
}
