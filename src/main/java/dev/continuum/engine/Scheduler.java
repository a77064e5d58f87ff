package dev.continuum.engine;

import dev.continuum.kvcache.BlockCopier;
import dev.continuum.kvcache.BlockManager;
import dev.continuum.runner.ModelRunner;
import dev.continuum.runner.StepBatch;
import dev.continuum.runner.StepOutput;
import dev.continuum.tokenizer.Tokenizer;
import org.jboss.logging.Logger;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * The continuous-batching loop body, run by the engine thread only. Each {@link #step()} has three phases:
 * <ol>
 *   <li>{@link #schedule()} decides how many tokens each sequence contributes (one decode token, plus any
 *       proposals to verify, for every running sequence first, so no prefill stalls decoding; then prefill chunks,
 *       oldest first; then newly admitted sequences) within seats, KV blocks and the token budget, preempting the
 *       newest sequences when blocks run out;</li>
 *   <li>{@link #execute} lays those tokens out as the runner's {@link StepBatch} and runs the forward pass;</li>
 *   <li>{@link #update} advances what is computed, samples (or accepts proposals, several tokens for one sequence),
 *       streams, applies stops and limits, and retires finished sequences, returning their blocks.</li>
 * </ol>
 * A preempted sequence loses its cache and is recomputed later from its tokens, giving the same output.
 */
final class Scheduler {
    private static final Logger LOG = Logger.getLogger(Scheduler.class);

    private final ModelRunner runner;
    private final BlockManager blocks;
    private final BlockCopier copyBlock;
    private final EngineConfig config;
    private final Tokenizer tokenizer;
    private final EngineMetrics metrics;
    private final TokenProposer proposer;
    private final Speculation speculation;
    private final ProposalBatch proposals;
    /** The rule by cost's planner; null under the fixed rule or without speculation. */
    private final ProposalPlanner planner;
    /** The fixed rule; null under the rule by cost. */
    private final Speculation.Fixed fixedRule;
    /** The planner's candidates of a step: the sequence, its acceptance rate, its most proposals, its plan. */
    private final Sequence[] candidates;
    private final double[] candidateRates;
    private final int[] candidateCaps;
    private final int[] planned;
    private final int vocab;
    /** Requests submitted and not yet admitted (or ended); the engine refuses new ones beyond its limits. */
    private final WaitingWork unadmitted;

    private final ArrayDeque<Sequence> waiting = new ArrayDeque<>();
    /** Running sequences in admission order: the newest, preempted first, are at the end. */
    private final List<Sequence> running = new ArrayList<>();
    /** Requests whose sinks got calls since the last {@link #endStep}, each once. */
    private final List<ActiveRequest> calledThisStep = new ArrayList<>();
    private final int[] freeSlots;
    private int freeSlotCount;
    private long steps;

    // Reused from step to step.
    private final SchedulerOutput scheduled;
    private final StepBatch batch;
    /** The running list as it was when the step began; preemption edits the list while schedule walks this. */
    private final Sequence[] runningAtStart;
    private final float[] forkRow;
    private final float[] childRow;

    Scheduler(ModelRunner runner, EngineConfig config, Tokenizer tokenizer, EngineMetrics metrics,
              WaitingWork unadmitted, Speculation speculation) {
        this.runner = runner;
        this.config = config;
        this.tokenizer = tokenizer;
        this.metrics = metrics;
        this.unadmitted = unadmitted;
        this.speculation = speculation;
        this.proposer = speculation.proposer();
        this.vocab = runner.shape().vocabSize();
        int slots = config.maxNumSeqs();
        this.blocks = new BlockManager(config.kvBlocks(), config.blockSize(), slots, config.maxModelLen());
        this.copyBlock = runner::copyBlock;
        runner.allocateKvCache(config.kvBlocks(), config.blockSize());
        proposer.start(config);
        this.proposals = new ProposalBatch(slots);
        this.planner = speculation.enabled() && speculation.rule() instanceof Speculation.ByCost byCost
                ? planner(runner, config, proposer, byCost) : null;
        this.fixedRule = speculation.rule() instanceof Speculation.Fixed fixed ? fixed : null;
        this.candidates = new Sequence[slots];
        this.candidateRates = new double[slots];
        this.candidateCaps = new int[slots];
        this.planned = new int[slots];
        if (planner != null) {
            LOG.infof("Speculation by step cost: %s", speculationCosts());
        }
        this.freeSlots = new int[slots];
        for (int i = 0; i < slots; i++) {
            freeSlots[i] = slots - 1 - i;
        }
        this.freeSlotCount = slots;
        int maxRows = config.maxBatchedTokens();
        long maxLogitRows = Math.min(maxRows, (long) slots * (1 + proposer.maxProposedTokens()));
        this.scheduled = new SchedulerOutput(slots);
        this.batch = new StepBatch(maxRows, (int) maxLogitRows, blocks.tables(), config.blockSize());
        this.runningAtStart = new Sequence[slots];
        this.forkRow = new float[vocab];
        this.childRow = new float[vocab];
    }

    /** The rule by cost's planner, on the costs given or measured now (the runners' KV storage is still empty). */
    private static ProposalPlanner planner(ModelRunner runner, EngineConfig config, TokenProposer proposer,
                                           Speculation.ByCost rule) {
        StepCosts target = rule.target();
        StepCosts own = rule.proposer();
        if (rule.measured()) {
            StepCostProbe probe = StepCostProbe.forEngine(config, proposer.maxProposedTokens());
            target = probe.measure(runner);
            own = proposer.measureCosts(probe);
        }
        return new ProposalPlanner(target, own, proposer.maxProposedTokens(), config.maxNumSeqs());
    }

    /** The rule by cost's step costs in words, or null (no speculation, or the fixed rule). */
    String speculationCosts() {
        return planner == null ? null : "target " + planner.target().describe() + "; proposer "
                + (planner.draft().free() ? "free" : planner.draft().describe());
    }

    void add(ActiveRequest r) {
        GenerationRequest req = r.request;
        int maxLength = Math.min(config.maxModelLen(), req.prompt().length + req.maxTokens());
        Sequence first = null;
        for (int c = 0; c < req.n(); c++) {
            Sequence s = new Sequence(r, c, maxLength, tokenizer, vocab, proposer.maxProposedTokens());
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

    /** Fraction of KV blocks in use. */
    double kvUsage() {
        return blocks.usage();
    }

    /** The running sequences, read only, for tests that check what each holds. */
    List<Sequence> runningSequences() {
        return java.util.Collections.unmodifiableList(running);
    }

    /** The block manager, for tests that check what is held. */
    BlockManager blocks() {
        return blocks;
    }

    /** Runs one scheduling step; returns false when there was nothing to do. */
    boolean step() {
        retireCancelled();
        retireExpired(System.nanoTime());
        if (idle()) {
            return false;
        }
        SchedulerOutput out = schedule();
        if (out.count() == 0) {
            return !idle();
        }
        StepOutput logits = execute(out);
        update(out, logits);
        return true;
    }

    // ---- Phase 1: schedule ----------------------------------------------------------------------------------

    /** Decides this step's tokens per sequence; reserves their blocks, preempting when the pool runs dry. */
    SchedulerOutput schedule() {
        scheduled.clear(++steps);
        int count = running.size();
        running.toArray(runningAtStart);
        int budget = config.maxBatchedTokens();
        budget = scheduleDecodes(count, budget);
        budget = schedulePrefillChunks(count, budget);
        admitWaiting(budget);
        for (int i = 0; i < count; i++) {
            runningAtStart[i] = null;
        }
        return scheduled;
    }

    /** One token for every decoding sequence, with what the proposer suggests after it while room allows. */
    private int scheduleDecodes(int count, int budget) {
        long step = scheduled.step();
        int decoding = 0;
        for (int i = 0; i < count; i++) {
            Sequence s = runningAtStart[i];
            if (isDecoding(s, step)) {
                s.clearDrafts();
                decoding++;
            }
        }
        propose(count, decoding, budget);
        for (int i = 0; i < count && budget > 0; i++) {
            Sequence s = runningAtStart[i];
            if (!isDecoding(s, step)) {
                continue;
            }
            int proposed = s.numDrafts;
            int drafts = Math.min(proposed, budget - 1);
            if (drafts > 0 && !blocks.reserve(s.slot, s.numTokens + drafts)) {
                drafts = 0; // proposals never preempt anyone
            }
            s.numDrafts = drafts;
            if (drafts == 0 && proposed > 0) {
                // Nothing to verify, so acceptTokens will not tell the proposer: what it cached past the known
                // tokens for these proposals goes now, or a draft's pool would hold blocks nobody needs.
                proposer.truncate(s.slot, s.numTokens);
            }
            if (!reserveOrPreempt(s, 1 + drafts)) {
                continue;
            }
            scheduled.add(s, 1 + drafts, drafts);
            budget -= 1 + drafts;
        }
        return budget;
    }

    /** Whether a sequence that stopped proposing is due for a probe: {@link Speculation#PROBE_INTERVAL} steps on. */
    private static boolean probeDue(Sequence s, long step) {
        return step - s.lastVerifiedStep >= Speculation.PROBE_INTERVAL;
    }

    private boolean isDecoding(Sequence s, long step) {
        return s.status == Sequence.Status.RUNNING && s.lastScheduledStep != step && !s.isPrefilling();
    }

    /**
     * Asks the proposer for tokens to follow the decoding sequences that may speculate in this step, as many as
     * the rule gives each ({@link Speculation}): by cost, the {@link ProposalPlanner}'s plan; by the fixed rule,
     * all a sequence may have while at most {@code disable-above} sequences decode, none for one whose proposals
     * mostly failed. None for a request that opted out; one now and then, a probe, for a sequence that stopped
     * proposing. The budget keeps one row for every decoding sequence; proposals share the rest, oldest first.
     */
    private void propose(int count, int decoding, int budget) {
        if (!speculation.enabled()
                || decoding > (planner != null ? Speculation.BY_COST_MAX_BATCH : fixedRule.disableAbove())) {
            return;
        }
        long step = scheduled.step();
        int room = budget - decoding;
        int n = 0;
        proposals.clear();
        for (int i = 0; i < count && room > 0; i++) {
            Sequence s = runningAtStart[i];
            if (!isDecoding(s, step) || !s.owner.request.speculative()) {
                continue;
            }
            // Every accepted proposal and the token sampled after them must fit the sequence's limits.
            int max = Math.min(Math.min(s.draftTokens.length, room), s.remainingCapacity() - 1);
            if (max <= 0) {
                continue;
            }
            if (planner != null) {
                candidates[n] = s;
                candidateRates[n] = s.acceptanceRate();
                candidateCaps[n] = max;
                n++;
            } else if (s.acceptanceRate() >= fixedRule.minAcceptance() || probeDue(s, step)) {
                proposals.enter(s, max);
                room -= max;
            }
        }
        if (n > 0) {
            room -= planner.plan(decoding, n, candidateRates, candidateCaps, room, planned);
            boolean probes = planner.probeWorthwhile(decoding);
            for (int i = 0; i < n; i++) {
                int k = planned[i];
                if (k == 0 && probes && room > 0 && probeDue(candidates[i], step)) {
                    k = 1;
                    room--;
                }
                if (k > 0) {
                    proposals.enter(candidates[i], k);
                }
                candidates[i] = null;
            }
        }
        if (proposals.size() > 0) {
            try {
                proposer.propose(proposals);
            } finally {
                proposals.finish();
            }
        }
    }

    /** Prefill chunks of running sequences, oldest first, each as large as the budget left allows. */
    private int schedulePrefillChunks(int count, int budget) {
        long step = scheduled.step();
        for (int i = 0; i < count && budget > 0; i++) {
            Sequence s = runningAtStart[i];
            if (s.status != Sequence.Status.RUNNING || s.lastScheduledStep == step || !s.isPrefilling()) {
                continue;
            }
            int chunk = Math.min(s.numNewTokens(), budget);
            if (!reserveOrPreempt(s, chunk)) {
                continue;
            }
            scheduled.add(s, chunk, 0);
            budget -= chunk;
        }
        return budget;
    }

    /** Waiting sequences in arrival order while seats, blocks and budget allow; forked choices wait for their parent. */
    private void admitWaiting(int budget) {
        for (Iterator<Sequence> it = waiting.iterator(); it.hasNext() && budget > 0 && freeSlotCount > 0; ) {
            Sequence s = it.next();
            if (s.forkParent != null) {
                continue;
            }
            int chunk = Math.min(s.numNewTokens(), budget);
            int slot = freeSlots[freeSlotCount - 1];
            if (!blocks.reserve(slot, s.numComputedTokens + chunk)) {
                break; // the oldest waiting sequence goes first: nobody overtakes it
            }
            it.remove();
            startRunning(s, freeSlots[--freeSlotCount]);
            scheduled.add(s, chunk, 0);
            budget -= chunk;
        }
    }

    /**
     * Reserves blocks for {@code tokens} more of the sequence's tokens, preempting the newest running sequences
     * not yet scheduled in this step until they fit. Returns false when {@code s} itself had to be preempted.
     */
    private boolean reserveOrPreempt(Sequence s, int tokens) {
        while (!blocks.reserve(s.slot, s.numComputedTokens + tokens)) {
            Sequence victim = newestUnscheduled(s);
            preempt(victim);
            if (victim == s) {
                return false;
            }
        }
        return true;
    }

    private Sequence newestUnscheduled(Sequence s) {
        for (int i = running.size() - 1; i >= 0; i--) {
            Sequence v = running.get(i);
            if (v != s && v.lastScheduledStep != scheduled.step()) {
                return v;
            }
        }
        return s;
    }

    private void startRunning(Sequence s, int slot) {
        s.slot = slot;
        s.status = Sequence.Status.RUNNING;
        running.add(s);
        ActiveRequest r = s.owner;
        if (r.firstScheduledNanos == 0) {
            r.firstScheduledNanos = System.nanoTime();
            metrics.queueTime(r.firstScheduledNanos - r.arrivalNanos);
            unadmitted.admitted(r);
        }
    }

    private void preempt(Sequence s) {
        // Its proposals of this step will never be verified: left in place, the drawn ones would be taken for
        // the proposals of the row that ends its recompute, and that token would be judged by the speculative
        // rule against a stale draft distribution instead of sampled from the target's row.
        s.clearDrafts();
        proposer.release(s.slot);
        blocks.release(s.slot);
        freeSlots[freeSlotCount++] = s.slot;
        s.slot = -1;
        s.numComputedTokens = 0;
        s.status = Sequence.Status.WAITING;
        running.remove(s);
        waiting.addFirst(s);
        metrics.preemption();
    }

    // ---- Phase 2: execute -----------------------------------------------------------------------------------

    /** Lays the scheduled tokens out as one batch and runs the forward pass. */
    StepOutput execute(SchedulerOutput out) {
        batch.clear();
        for (int i = 0; i < blocks.changedSlotCount(); i++) {
            batch.markTableChanged(blocks.changedSlot(i));
        }
        blocks.clearChanged();
        for (int i = 0; i < out.count(); i++) {
            Sequence s = out.sequence(i);
            int first = s.numComputedTokens;
            int rows = out.numScheduledTokens(i);
            int firstRow = batch.rows();
            for (int r = 0; r < rows; r++) {
                int pos = first + r;
                int token = pos < s.numTokens ? s.tokens[pos] : s.draftTokens[pos - s.numTokens];
                batch.addRow(token, pos, s.slot);
            }
            int known = rows - out.numDraftTokens(i);
            if (first + known == s.numTokens) {
                // The last known token's row predicts the next token; each proposal's row the one after it.
                out.setFirstLogitRow(i, batch.logitRowCount());
                for (int r = known - 1; r < rows; r++) {
                    batch.requestLogits(firstRow + r);
                }
            }
        }
        return runner.forward(batch);
    }

    // ---- Phase 3: update ------------------------------------------------------------------------------------

    /** Advances each scheduled sequence past the tokens just computed and takes its new tokens from the logits. */
    void update(SchedulerOutput out, StepOutput logits) {
        metrics.step(out.totalTokens(), running.size(), blocks.usage());
        long now = System.nanoTime();
        for (int i = 0; i < out.count(); i++) {
            Sequence s = out.sequence(i);
            int drafts = out.numDraftTokens(i);
            s.numComputedTokens += out.numScheduledTokens(i) - drafts;
            if (out.numLogitRows(i) == 0) {
                continue; // mid-prefill: nothing to sample yet
            }
            if (s.numTokens == s.numPromptTokens && hasWaitingChildren(s)) {
                System.arraycopy(logits.logits(), logits.offset(out.firstLogitRow(i)), forkRow, 0, vocab);
                forkChildren(s, now);
            }
            acceptTokens(s, logits, out.firstLogitRow(i), drafts, now);
        }
    }

    /**
     * Takes the sequence's next tokens from its logits rows: the token its sampler draws from each row is emitted,
     * and while it equals the proposal that row was fed next, the proposal's computed keys and values stand and
     * the next row is read too. The first disagreement (or the row after the last proposal) ends the step for the
     * sequence; the cache positions of rejected proposals are given back.
     */
    private void acceptTokens(Sequence s, StepOutput logits, int firstRow, int drafts, long now) {
        int known = s.numTokens;
        int accepted = 0;
        boolean finished = false;
        for (int j = 0; j <= drafts; j++) {
            TokenEvent sampled = s.verify(logits.logits(), logits.offset(firstRow + j), j);
            boolean proposalHolds = j < drafts && sampled.token() == s.draftTokens[j];
            if (!emit(s, sampled, now)) {
                finished = true; // its blocks are released already
                if (proposalHolds) {
                    accepted++;
                }
                break;
            }
            if (!proposalHolds) {
                break;
            }
            accepted++;
            s.numComputedTokens++;
        }
        if (drafts == 0) {
            return;
        }
        metrics.verified(drafts, accepted);
        s.recordVerification(drafts, accepted);
        s.lastVerifiedStep = scheduled.step();
        if (finished) {
            return;
        }
        proposer.truncate(s.slot, known + accepted);
        if (!blocks.truncate(s.slot, s.numComputedTokens, copyBlock)) {
            throw new IllegalStateException("no block free to truncate slot " + s.slot + " inside a shared block");
        }
    }

    /** Appends a sampled token, streams it, and retires the sequence if it is done; false when it finished. */
    private boolean emit(Sequence s, TokenEvent sampled, long now) {
        ActiveRequest r = s.owner;
        int token = sampled.token();
        // Below min_tokens the sampler never draws these (Sequence.sample bans them); a stop token is not text.
        if ((token == tokenizer.eosId() && !r.request.ignoreEos()) || r.request.isStopToken(token)) {
            finish(s, FinishReason.STOP);
            return false;
        }
        String text = s.append(token);
        r.completionTokens++;
        metrics.generatedToken(r, now);
        r.sink.onToken(new TokenEvent(s.choice, token, text, sampled.logprob(), sampled.topTokens(),
                sampled.topLogprobs()));
        called(r);
        if (s.hitStopString()) {
            finish(s, FinishReason.STOP);
            return false;
        }
        if (s.generated() >= r.request.maxTokens() || s.numTokens >= s.tokens.length) {
            finish(s, FinishReason.LENGTH);
            return false;
        }
        return true;
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
     * and sample their first token from the same logits ({@link #forkRow}), instead of each prefilling the prompt
     * again.
     */
    private void forkChildren(Sequence parent, long now) {
        for (Iterator<Sequence> it = waiting.iterator(); it.hasNext(); ) {
            Sequence c = it.next();
            if (c.forkParent != parent) {
                continue;
            }
            c.forkParent = null;
            if (freeSlotCount == 0) {
                continue; // no seat now: it prefills on its own later
            }
            int slot = freeSlots[freeSlotCount - 1];
            if (!blocks.fork(parent.slot, slot, parent.numPromptTokens, copyBlock)) {
                continue;
            }
            it.remove();
            freeSlotCount--;
            c.numComputedTokens = parent.numPromptTokens;
            startRunning(c, slot);
            System.arraycopy(forkRow, 0, childRow, 0, vocab);
            emit(c, c.sample(childRow, 0, vocab), now);
        }
    }

    private void finish(Sequence s, FinishReason reason) {
        if (s.status == Sequence.Status.FINISHED) {
            return;
        }
        if (s.status == Sequence.Status.RUNNING) {
            proposer.release(s.slot);
            blocks.release(s.slot);
            freeSlots[freeSlotCount++] = s.slot;
            s.slot = -1;
            running.remove(s);
        } else {
            waiting.remove(s);
        }
        s.status = Sequence.Status.FINISHED;
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
            unadmitted.admitted(r); // ended (cancelled) before it was ever scheduled
        }
        metrics.finished(r, reason, r.choicesLeft == 0);
        r.sink.onFinish(s.choice, reason, tail, r.request.prompt().length, s.generated());
        called(r);
    }

    private void retireCancelled() {
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

    /**
     * Ends, with {@link FinishReason#TIMEOUT}, every sequence whose request is past its deadline, running (its
     * blocks go back to the pool) or waiting. Checked once per step, so a deadline is honoured within one step.
     */
    private void retireExpired(long now) {
        for (int i = running.size() - 1; i >= 0; i--) {
            Sequence s = running.get(i);
            if (now - s.owner.deadlineNanos >= 0) {
                finish(s, FinishReason.TIMEOUT);
            }
        }
        List<Sequence> expired = null;
        for (Sequence s : waiting) {
            if (now - s.owner.deadlineNanos >= 0) {
                (expired == null ? expired = new ArrayList<>() : expired).add(s);
            }
        }
        if (expired != null) {
            for (Sequence s : expired) {
                finish(s, FinishReason.TIMEOUT);
            }
        }
    }

    /** Remembers that {@code r}'s sink got a call in this step, for {@link #endStep}. */
    private void called(ActiveRequest r) {
        if (!r.calledThisStep) {
            r.calledThisStep = true;
            calledThisStep.add(r);
        }
    }

    /**
     * Tells each sink that got calls since the last time that the step is over ({@link TokenSink#onStepEnd}), in
     * the order of their first calls. The list is kept between steps, so a steady step allocates nothing. It runs
     * outside the step's own failure handling, so a sink that throws (its event loop shut down) is logged and the
     * others still hear, rather than the exception ending the engine thread.
     */
    void endStep() {
        for (int i = 0; i < calledThisStep.size(); i++) {
            ActiveRequest r = calledThisStep.get(i);
            r.calledThisStep = false;
            try {
                r.sink.onStepEnd();
            } catch (RuntimeException e) {
                LOG.error("a request's output sink failed at the end of a step", e);
            }
        }
        calledThisStep.clear();
    }

    /** Tokens the last step computed (0 when it had nothing to run), for the engine's throughput estimate. */
    int lastStepTokens() {
        return scheduled.totalTokens();
    }

    /** Fails every sequence (after an unexpected error in the forward pass) so no client waits forever. */
    void failAll(String message) {
        List<Sequence> all = new ArrayList<>(running);
        all.addAll(waiting);
        for (Sequence s : all) {
            if (!s.owner.failed) {
                s.owner.failed = true;
                s.owner.sink.onError(message);
                called(s.owner);
            }
            s.owner.handle.cancel();
            finish(s, FinishReason.ERROR);
        }
    }
}
