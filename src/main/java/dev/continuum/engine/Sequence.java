package dev.continuum.engine;

import dev.continuum.sampling.Sampler;
import dev.continuum.sampling.SamplingParams;
import dev.continuum.tokenizer.StreamingDecoder;
import dev.continuum.tokenizer.Tokenizer;

/**
 * One choice of a request as it moves through the scheduler: its tokens so far (prompt then generated), how
 * many of them have keys and values in the cache, its KV slot, sampler and text state.
 */
final class Sequence {
    final ActiveRequest owner;
    final int choice;
    final int promptLength;
    final int[] tokens;
    int length;
    /** Tokens whose keys/values are in the cache; the rest still need a forward pass. */
    int computed;
    /** KV block-table row, or -1 while the sequence holds no cache. */
    int slot = -1;
    /** Admission order, to preempt the newest first. */
    long admittedOrder;
    /** The last step that scheduled tokens of this sequence. */
    long scheduledStep;
    /** For choices 1..n-1: the choice whose prompt prefill they will share, until they fork from it. */
    Sequence forkParent;
    boolean finished;

    final Sampler sampler;
    private final StreamingDecoder decoder;
    private final StopMatcher stops;
    private final int[] topIds;
    private final float[] topValues;
    private final float[] rawLogits;

    Sequence(ActiveRequest owner, int choice, int maxLength, Tokenizer tokenizer, int vocab) {
        GenerationRequest r = owner.request;
        this.owner = owner;
        this.choice = choice;
        this.promptLength = r.prompt().length;
        this.tokens = new int[maxLength];
        System.arraycopy(r.prompt(), 0, tokens, 0, promptLength);
        this.length = promptLength;
        SamplingParams p = r.sampling();
        SamplingParams mine = choice == 0 ? p : new SamplingParams(p.temperature(), p.topK(), p.topP(), p.minP(),
                p.presencePenalty(), p.frequencyPenalty(), p.repetitionPenalty(), p.seed() + choice);
        this.sampler = new Sampler(mine, vocab);
        for (int i = 0; i < promptLength; i++) {
            sampler.accept(tokens[i]);
        }
        this.decoder = new StreamingDecoder(tokenizer);
        this.stops = new StopMatcher(r.stop());
        this.topIds = r.logprobs() > 0 ? new int[r.logprobs()] : null;
        this.topValues = r.logprobs() > 0 ? new float[r.logprobs()] : null;
        this.rawLogits = r.logprobs() >= 0 && p.hasPenalties() ? new float[vocab] : null;
    }

    int generated() {
        return length - promptLength;
    }

    /** Tokens still waiting for a forward pass. */
    int pending() {
        return length - computed;
    }

    boolean inPrefill() {
        return pending() > 1;
    }

    /** Samples the next token from {@code logits[o..o+vocab)} and describes it; the row may be modified. */
    TokenEvent sample(float[] logits, int o, int vocab) {
        int wanted = owner.request.logprobs();
        float lse = 0;
        float[] source = logits;
        int so = o;
        if (wanted >= 0) {
            lse = Logprobs.logSumExp(logits, o, vocab);
            if (topIds != null) {
                Logprobs.top(logits, o, vocab, topIds, topValues);
            }
            if (rawLogits != null) {
                System.arraycopy(logits, o, rawLogits, 0, vocab);
                source = rawLogits;
                so = 0;
            }
        }
        int token = sampler.sample(logits, o);
        float logprob = wanted >= 0 ? source[so + token] - lse : 0f;
        int[] ids = null;
        float[] lps = null;
        if (topIds != null) {
            ids = topIds.clone();
            lps = new float[topValues.length];
            for (int i = 0; i < lps.length; i++) {
                lps[i] = topValues[i] - lse;
            }
        }
        return new TokenEvent(choice, token, "", logprob, ids, lps);
    }

    /** Appends a sampled token that is part of the output and returns the text it releases. */
    String append(int token) {
        tokens[length++] = token;
        sampler.accept(token);
        return stops.push(decoder.push(token));
    }

    boolean hitStopString() {
        return stops.stopped();
    }

    /** Text held back until the end (an incomplete character, a partial stop string). */
    String flushText() {
        return stops.push(decoder.flush()) + stops.flush();
    }
}
