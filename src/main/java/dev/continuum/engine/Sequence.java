package dev.continuum.engine;

import dev.continuum.sampling.Logprobs;
import dev.continuum.sampling.Sampler;
import dev.continuum.sampling.SamplingParams;
import dev.continuum.tokenizer.StreamingDecoder;
import dev.continuum.tokenizer.Tokenizer;

/**
 * One choice of a request as it moves through the scheduler: its tokens so far (prompt then generated), how
 * many of them have keys and values in the cache, its KV slot, sampler and text state.
 *
 * <p>The counters say what they count: {@code numTokens} tokens are known ({@code numPromptTokens} of them the
 * prompt), the first {@code numComputedTokens} have keys and values in the cache, and the rest
 * ({@link #numNewTokens}) still need a forward pass: the whole prompt before admission, a prefill chunk's
 * remainder, or the one token sampled last step. A preempted sequence drops its cache and computes everything
 * again.
 */
final class Sequence {
    enum Status { WAITING, RUNNING, FINISHED }

    final ActiveRequest owner;
    final int choice;
    final int numPromptTokens;
    /** Prompt then generated tokens; its length bounds the sequence (max-model-len or prompt + max_tokens). */
    final int[] tokens;
    int numTokens;
    int numComputedTokens;
    Status status = Status.WAITING;
    /** KV slot (block-table row) while running, -1 otherwise. */
    int slot = -1;
    /** The last step that scheduled tokens of this sequence: such a sequence is not preempted in that step. */
    long lastScheduledStep;
    /** For choices 1..n-1: the choice whose prompt prefill they will share, until they fork from it. */
    Sequence forkParent;
    /** Tokens proposed to follow {@code tokens[0..numTokens)}, verified in the step that schedules them. */
    final int[] draftTokens;
    /** How many of {@link #draftTokens} this step proposed. */
    int numDrafts;
    /**
     * Whether this step's proposals were drawn from a draft model's distributions ({@link #draftProbs}), verified
     * by the speculative sampling rule; otherwise they are point masses, verified by sampling the target's row and
     * comparing (which is that rule for a point mass, and leaves the output token for token as without them).
     */
    private boolean drawnDrafts;
    /**
     * Whether this step's proposals came from a draft model ({@link #drawDraft}), drawn or (greedy) argmax picks;
     * a greedy draft's picks are point masses like guesses, so {@link #drawnDrafts} alone cannot tell the two
     * kinds of proposer apart.
     */
    private boolean drafted;
    /** Row j: the distribution proposal j was drawn from; allocated at the first draw of a sampling sequence. */
    private float[][] draftProbs;
    private float[] targetProbs;
    private java.util.SplittableRandom draftRandom;
    /** Draws counted in the sampler's penalties until {@link #endDrafting}. */
    private int tentative;
    /** A guess outside the vocabulary ended this step's guesses. */
    private boolean guessesEnded;
    private final int vocab;
    /**
     * Proposals accepted and positions tried (accepted ones plus the first rejected), each decayed by
     * {@link #ACCEPTANCE_DECAY} per verification: their ratio estimates the chance that a proposal holds given
     * the one before it did (the geometric model of {@link ProposalPlanner}); a run of K accepted proposals counts
     * K tries, no rejection seen. Starts hopeful, at one accepted of one tried.
     */
    private double acceptedProposals = 1;
    private double triedProposals = 1;
    /** The last step this sequence had proposals verified. */
    long lastVerifiedStep;

    final Sampler sampler;
    private final StreamingDecoder decoder;
    private final StopMatcher stops;
    private final int[] topIds;
    private final float[] topValues;
    private final float[] rawLogits;
    /** The end-of-generation token that ends this choice, -1 when ignore_eos lets it through as text. */
    private final int eosId;

    /** Weight of the past in {@link #acceptanceRate} per verification: the last few steps count most. */
    static final double ACCEPTANCE_DECAY = 0.75;

    /** The estimated chance that a proposal of this sequence holds, given the one before it held. */
    double acceptanceRate() {
        return acceptedProposals / triedProposals;
    }

    /** Counts a verification of {@code proposed} proposals of which the first {@code accepted} held. */
    void recordVerification(int proposed, int accepted) {
        acceptedProposals = ACCEPTANCE_DECAY * acceptedProposals + accepted;
        triedProposals = ACCEPTANCE_DECAY * triedProposals + accepted + (accepted < proposed ? 1 : 0);
    }

    Sequence(ActiveRequest owner, int choice, int maxLength, Tokenizer tokenizer, int vocab, int maxDraftTokens) {
        GenerationRequest r = owner.request;
        this.owner = owner;
        this.choice = choice;
        this.numPromptTokens = r.prompt().length;
        this.tokens = new int[maxLength];
        System.arraycopy(r.prompt(), 0, tokens, 0, numPromptTokens);
        this.numTokens = numPromptTokens;
        this.draftTokens = new int[maxDraftTokens];
        SamplingParams p = r.sampling();
        SamplingParams mine = choice == 0 ? p : p.withSeed(p.seed() + choice);
        this.sampler = new Sampler(mine, vocab);
        for (int i = 0; i < numPromptTokens; i++) {
            sampler.accept(tokens[i]);
        }
        this.decoder = new StreamingDecoder(tokenizer);
        this.stops = new StopMatcher(r.stop());
        this.topIds = r.logprobs() > 0 ? new int[r.logprobs()] : null;
        this.topValues = r.logprobs() > 0 ? new float[r.logprobs()] : null;
        this.rawLogits = r.logprobs() >= 0 && p.modifiesLogits() ? new float[vocab] : null;
        this.eosId = r.ignoreEos() ? -1 : tokenizer.eosId();
        this.vocab = vocab;
    }

    int generated() {
        return numTokens - numPromptTokens;
    }

    /** Known tokens without keys and values in the cache yet: what the next forward pass must run. */
    int numNewTokens() {
        return numTokens - numComputedTokens;
    }

    /** More than the last sampled token to compute: a prompt (or a preempted sequence's history) in progress. */
    boolean isPrefilling() {
        return numNewTokens() > 1;
    }

    /** Room for tokens still to come: the output limit and the token buffer, whichever is nearer. */
    int remainingCapacity() {
        return Math.min(owner.request.maxTokens() - generated(), tokens.length - numTokens);
    }

    /** Samples the next token from {@code logits[o..o+vocab)} and describes it; the row may be modified. */
    TokenEvent sample(float[] logits, int o, int vocab) {
        return choose(logits, o, -1);
    }

    /**
     * The token the target's row {@code logits[o..o+vocab)} gives at proposal position {@code j} (j = numDrafts:
     * the row after the last proposal). For proposals drawn from a draft's distribution q, speculative sampling:
     * proposal x stands with probability min(1, p(x)/q(x)), else a token from normalize(max(0, p - q)) replaces
     * it; otherwise (point masses, or the last row) the token this sampler draws from p. Either way the proposal
     * was accepted exactly when the returned token equals it.
     */
    TokenEvent verify(float[] logits, int o, int j) {
        return choose(logits, o, drawnDrafts && j < numDrafts ? j : -1);
    }

    private TokenEvent choose(float[] logits, int o, int ruleRow) {
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
        if (generated() < owner.request.minTokens()) {
            banEndings(logits, o, vocab);
        }
        int token;
        if (ruleRow < 0) {
            token = sampler.sample(logits, o);
        } else {
            float[] q = draftProbs[ruleRow];
            int x = draftTokens[ruleRow];
            sampler.distribution(logits, o, targetProbs);
            if (sampler.acceptsProposal(targetProbs, q, x)) {
                token = x;
            } else {
                int replacement = sampler.drawResidual(targetProbs, q);
                token = replacement < 0 ? x : replacement; // p = q up to rounding: nothing to correct
            }
        }
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

    /** Drops the proposals of an earlier step. */
    void clearDrafts() {
        numDrafts = 0;
        drawnDrafts = false;
        drafted = false;
        guessesEnded = false;
    }

    /** Appends a deterministic guess; an id outside the vocabulary ends the proposals. */
    void addGuess(int token) {
        if (drafted) {
            throw new IllegalStateException("a sequence's proposals are all guesses or all draws");
        }
        if (token < 0 || token >= vocab) {
            guessesEnded = true;
        }
        if (!guessesEnded) {
            draftTokens[numDrafts++] = token;
        }
    }

    /**
     * Draws the next proposal from a draft model's row under this choice's sampling parameters, the proposals
     * before it counted as context for the penalties (until {@link #endDrafting}), and keeps its distribution.
     */
    int drawDraft(float[] logits, int o) {
        if (numDrafts > 0 && !drafted) {
            throw new IllegalStateException("a sequence's proposals are all guesses or all draws");
        }
        drafted = true;
        int j = numDrafts;
        if (generated() + j < owner.request.minTokens()) {
            banEndings(logits, o, vocab);
        }
        int token;
        if (sampler.greedy()) {
            token = sampler.sample(logits, o); // a point mass: verified by comparison
        } else {
            if (draftProbs == null) {
                draftProbs = new float[draftTokens.length][vocab];
                targetProbs = new float[vocab];
                draftRandom = new java.util.SplittableRandom(owner.request.sampling().seed() * 0x9E3779B97F4A7C15L
                        + choice + 1);
            }
            sampler.distribution(logits, o, draftProbs[j]);
            token = Sampler.draw(draftProbs[j], draftRandom);
            drawnDrafts = true;
        }
        sampler.accept(token);
        tentative++;
        draftTokens[numDrafts++] = token;
        return token;
    }

    /** Proposing is over: the drawn proposals leave the penalty counts (the accepted ones return as output). */
    void endDrafting() {
        for (int j = 0; j < tentative; j++) {
            sampler.forget(draftTokens[j]);
        }
        tentative = 0;
    }

    /** Below min_tokens nothing may end the choice: EOS and the stop tokens get no chance to be drawn. */
    private void banEndings(float[] logits, int o, int vocab) {
        if (eosId >= 0 && eosId < vocab) {
            logits[o + eosId] = Float.NEGATIVE_INFINITY;
        }
        for (int t : owner.request.stopTokenIds()) {
            if (t >= 0 && t < vocab) {
                logits[o + t] = Float.NEGATIVE_INFINITY;
            }
        }
    }

    /** Appends a sampled token that is part of the output and returns the text it releases. */
    String append(int token) {
        tokens[numTokens++] = token;
        sampler.accept(token);
        // Stop strings count from min_tokens on: text before that is released as it comes.
        return stops.push(decoder.push(token), generated() >= owner.request.minTokens());
    }

    boolean hitStopString() {
        return stops.stopped();
    }

    /** Text held back until the end (an incomplete character, a partial stop string). */
    String flushText() {
        return stops.push(decoder.flush(), generated() >= owner.request.minTokens()) + stops.flush();
    }
}
