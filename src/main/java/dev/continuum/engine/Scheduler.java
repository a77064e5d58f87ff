package dev.continuum.engine;

import dev.continuum.kvcache.PagedKvCache;
import dev.continuum.model.LlamaModel;
import dev.continuum.tokenizer.Tokenizer;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * The continuous-batching loop body, run by the engine thread only. Each {@link #step()}: drop cancelled
 * sequences, schedule one decode token for every running sequence and prefill chunks (oldest first) within the
 * token budget, admit waiting sequences while slots, blocks and budget allow, run one forward pass over all
 * those tokens, then sample, stream, and retire finished sequences. When the KV pool runs dry the newest running
 * sequence is preempted and later recomputed.
 */
final class Scheduler {
    private final LlamaModel model;
    private final PagedKvCache kv;
    private final EngineConfig config;
    private final Tokenizer tokenizer;
    private final EngineMetrics metrics;
    private final int vocab;

    private final ArrayDeque<Sequence> waiting = new ArrayDeque<>();
    private final List<Sequence> running = new ArrayList<>();
    private final int[] freeSlots;
    private int freeSlotCount;
    private long admissions;
    private long steps;

    // Step buffers, reused.
    private final int[] stepTokens;
    private final int[] stepPositions;
    private final int[] stepSlots;
    private final int[] logitRows;
    private final Sequence[] logitSequences;
    private final float[] logits;
    private final float[] forkRow;

    /** Requests submitted and not yet admitted (or ended); the engine refuses new ones beyond max-waiting. */
    private final java.util.concurrent.atomic.AtomicInteger unadmitted;

    Scheduler(LlamaModel model, PagedKvCache kv, EngineConfig config, Tokenizer tokenizer, EngineMetrics metrics,
              java.util.concurrent.atomic.AtomicInteger unadmitted) {
        this.unadmitted = unadmitted;
        this.model = model;
        this.kv = kv;
        this.config = config;
        this.tokenizer = tokenizer;
        this.metrics = metrics;
        this.vocab = model.config().vocabSize();
        int slots = config.maxNumSeqs();
        this.freeSlots = new int[slots];
        for (int i = 0; i < slots; i++) {
            freeSlots[i] = slots - 1 - i;
        }
        this.freeSlotCount = slots;
        int maxRows = config.maxBatchedTokens() + slots;
        this.stepTokens = new int[maxRows];
        this.stepPositions = new int[maxRows];
        this.stepSlots = new int[maxRows];
        this.logitRows = new int[slots];
        this.logitSequences = new Sequence[slots];
        this.logits = new float[slots * vocab];
        this.forkRow = new float[vocab];
    }

    void add(ActiveRequest r) {
        GenerationRequest req = r.request;
        int maxLength = Math.min(config.maxModelLen(), req.prompt().length + req.maxTokens());
        Sequence first = null;
        for (int c = 0; c < req.n(); c++) {
            Sequence s = new Sequence(r, c, maxLength, tokenizer, vocab);
            if (c == 0) {
                first = s;
            } else {
                s.forkParent = first;
            }
            waiting.addLast(s);
        }
        metrics.promptTokens(req.prompt().length);
    }

    int runningCount() {
        return running.size();
    }

    int waitingCount() {
        return waiting.size();
    }

    boolean idle() {
        return running.isEmpty() && waiting.isEmpty();
    }

    /** Runs one scheduling step; returns false when there was nothing to do. */
    boolean step() {
        dropCancelled();
        if (idle()) {
            return false;
        }
        int rows = 0;
        int logitCount = 0;
        int budget = config.maxBatchedTokens();

        // Running sequences: every decode token first, so no prefill can stall decoding, then prefill chunks,
        // oldest first.
        long step = ++steps;
        for (int pass = 0; pass < 2; pass++) {
            for (int i = 0; i < running.size() && budget > 0; i++) {
                Sequence s = running.get(i);
                if (s.scheduledStep == step || (pass == 0) != (s.pending() == 1)) {
                    continue;
                }
                int chunk = Math.min(s.pending(), budget);
                if (!reserveOrPreempt(s, chunk, step)) {
                    i = -1; // s left the running list: rescan; what is scheduled already is skipped
                    continue;
                }
                i = running.indexOf(s); // preempting others may have shifted it
                rows = schedule(s, chunk, rows, step);
                budget -= chunk;
                if (s.computed == s.length) {
                    logitRows[logitCount] = rows - 1;
                    logitSequences[logitCount++] = s;
                }
            }
        }

        // Then admit waiting sequences in arrival order while there is room; forked choices wait for their parent.
        for (Iterator<Sequence> it = waiting.iterator(); it.hasNext() && budget > 0 && freeSlotCount > 0; ) {
            Sequence s = it.next();
            if (s.forkParent != null) {
                continue;
            }
            int chunk = Math.min(s.pending(), budget);
            int slot = freeSlots[freeSlotCount - 1];
            if (!kv.reserve(slot, s.computed + chunk)) {
                break;
            }
            freeSlotCount--;
            it.remove();
            s.slot = slot;
            s.admittedOrder = admissions++;
            running.add(s);
            if (s.owner.firstScheduledNanos == 0) {
                s.owner.firstScheduledNanos = System.nanoTime();
                metrics.queueTime(s.owner.firstScheduledNanos - s.owner.arrivalNanos);
                unadmitted.decrementAndGet();
            }
            rows = schedule(s, chunk, rows, step);
            budget -= chunk;
            if (s.computed == s.length) {
                logitRows[logitCount] = rows - 1;
                logitSequences[logitCount++] = s;
            }
        }
        if (rows == 0) {
            return !idle();
        }

        model.forward(rows, stepTokens, stepPositions, stepSlots, kv, logitCount, logitRows, logits);
        metrics.step(rows, running.size(), kv.usage());

        long now = System.nanoTime();
        for (int j = 0; j < logitCount; j++) {
            Sequence s = logitSequences[j];
            if (s.length == s.promptLength && hasWaitingChildren(s)) {
                System.arraycopy(logits, j * vocab, forkRow, 0, vocab);
                forkChildren(s, now);
                System.arraycopy(forkRow, 0, logits, j * vocab, vocab);
            }
            accept(s, logits, j * vocab, now);
        }
        return true;
    }

    /** Appends {@code chunk} of the sequence's pending tokens to the step; returns the new row count. */
    private int schedule(Sequence s, int chunk, int rows, long step) {
        s.scheduledStep = step;
        for (int i = 0; i < chunk; i++) {
            int pos = s.computed + i;
            stepTokens[rows] = s.tokens[pos];
            stepPositions[rows] = pos;
            stepSlots[rows] = s.slot;
            rows++;
        }
        s.computed += chunk;
        return rows;
    }

    /** Samples the sequence's next token from its logits row, streams it, and retires the sequence if done. */
    private void accept(Sequence s, float[] rowLogits, int offset, long now) {
        ActiveRequest r = s.owner;
        TokenEvent sampled = s.sample(rowLogits, offset, vocab);
        int token = sampled.token();
        if (token == tokenizer.eosId() && !r.request.ignoreEos()) {
            finish(s, FinishReason.STOP);
            return;
        }
        String text = s.append(token);
        r.completionTokens++;
        metrics.generatedToken(r, now);
        r.sink.onToken(new TokenEvent(s.choice, token, text, sampled.logprob(), sampled.topTokens(),
                sampled.topLogprobs()));
        if (s.hitStopString()) {
            finish(s, FinishReason.STOP);
        } else if (s.generated() >= r.request.maxTokens() || s.length >= s.tokens.length) {
            finish(s, FinishReason.LENGTH);
        }
    }

    private boolean hasWaitingChildren(Sequence parent) {
        for (Sequence w : waiting) {
            if (w.forkParent == parent) {
                return true;
            }
        }
        return false;
    }

    /**
     * The parent's prompt is now cached: its waiting sibling choices take over that cache (sharing full blocks)
     * and sample their first token from the same logits, instead of each prefilling the prompt again.
     */
    private void forkChildren(Sequence parent, long now) {
        for (Iterator<Sequence> it = waiting.iterator(); it.hasNext(); ) {
            Sequence c = it.next();
            if (c.forkParent != parent) {
                continue;
            }
            c.forkParent = null;
            if (freeSlotCount == 0 || running.size() >= config.maxNumSeqs()) {
                continue; // no room now: it prefills on its own later
            }
            int slot = freeSlots[freeSlotCount - 1];
            if (!kv.fork(parent.slot, slot, parent.promptLength)) {
                continue;
            }
            freeSlotCount--;
            it.remove();
            c.slot = slot;
            c.computed = parent.promptLength;
            c.admittedOrder = admissions++;
            running.add(c);
            float[] row = forkRow.clone();
            accept(c, row, 0, now);
        }
    }

    /**
     * Reserves KV blocks for the sequence's next chunk, preempting the newest running sequences not yet scheduled
     * in this step until it fits. Returns false when {@code s} itself had to be preempted.
     */
    private boolean reserveOrPreempt(Sequence s, int chunk, long step) {
        while (!kv.reserve(s.slot, s.computed + chunk)) {
            Sequence victim = s;
            for (int i = running.size() - 1; i >= 0; i--) {
                Sequence v = running.get(i);
                if (v != s && v.scheduledStep != step) {
                    victim = v;
                    break;
                }
            }
            preempt(victim);
            if (victim == s) {
                return false;
            }
        }
        return true;
    }

    private void preempt(Sequence s) {
        kv.release(s.slot);
        freeSlots[freeSlotCount++] = s.slot;
        s.slot = -1;
        s.computed = 0;
        running.remove(s);
        waiting.addFirst(s);
        metrics.preemption();
    }

    private void finish(Sequence s, FinishReason reason) {
        if (s.finished) {
            return;
        }
        s.finished = true;
        if (s.slot >= 0) {
            kv.release(s.slot);
            freeSlots[freeSlotCount++] = s.slot;
            s.slot = -1;
            running.remove(s);
        } else {
            waiting.remove(s);
        }
        for (Sequence w : waiting) {
            if (w.forkParent == s) {
                w.forkParent = null;
            }
        }
        ActiveRequest r = s.owner;
        String tail = reason == FinishReason.CANCELLED ? "" : s.flushText();
        r.choicesLeft--;
        if (r.choicesLeft == 0 && r.firstScheduledNanos == 0) {
            r.firstScheduledNanos = System.nanoTime();
            unadmitted.decrementAndGet(); // ended (cancelled) before it was ever scheduled
        }
        metrics.finished(r, reason, r.choicesLeft == 0);
        r.sink.onFinish(s.choice, reason, tail, r.request.prompt().length, s.generated());
    }

    private void dropCancelled() {
        for (int i = running.size() - 1; i >= 0; i--) {
            Sequence s = running.get(i);
            if (s.owner.handle.isCancelled()) {
                finish(s, FinishReason.CANCELLED);
            }
        }
        List<Sequence> gone = null;
        for (Sequence s : waiting) {
            if (s.owner.handle.isCancelled()) {
                (gone == null ? gone = new ArrayList<>() : gone).add(s);
            }
        }
        if (gone != null) {
            for (Sequence s : gone) {
                finish(s, FinishReason.CANCELLED);
            }
        }
    }

    /** Fails every sequence (after an unexpected error in the forward pass) so no client waits forever. */
    void failAll(String message) {
        List<Sequence> all = new ArrayList<>(running);
        all.addAll(waiting);
        for (Sequence s : all) {
            if (!s.owner.failed) {
                s.owner.failed = true;
                s.owner.sink.onError(message);
            }
            s.owner.handle.cancel();
            finish(s, FinishReason.ERROR);
        }
    }

    PagedKvCache kv() {
        return kv;
    }
}
