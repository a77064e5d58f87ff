package dev.continuum.speculative;

import dev.continuum.engine.ProposalBatch;
import dev.continuum.engine.ProposalBatchFixture;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Prompt lookup's proposals on hand-written token histories, exact ids throughout. */
class NgramProposerTest {
    private static final int VOCAB = 320;

    /** What {@code proposer} proposes for one sequence knowing {@code known}, with room for {@code max}. */
    private static int[] propose(NgramProposer proposer, int max, int... known) {
        ProposalBatch batch = ProposalBatchFixture.of(VOCAB, 32, new int[]{max}, known);
        proposer.propose(batch);
        return ProposalBatchFixture.proposals(batch, 0);
    }

    @Test
    void proposesWhatFollowedTheEarlierOccurrenceOfTheSuffix() {
        // "5 6 7" ends the history and occurred at 1, followed by 8 9 10.
        assertArrayEquals(new int[]{8, 9, 10}, propose(new NgramProposer(3, 3), 3, 4, 5, 6, 7, 8, 9, 10, 11, 5, 6, 7));
        assertArrayEquals(new int[]{8, 9, 10, 11, 5}, propose(new NgramProposer(3, 5), 5, 4, 5, 6, 7, 8, 9, 10, 11, 5, 6, 7));
    }

    @Test
    void noMatchProposesNothing() {
        assertArrayEquals(new int[0], propose(new NgramProposer(3, 5), 5, 4, 5, 6, 7, 8, 9, 5, 6, 3));
        // Only the last two of the three tokens occurred before: no 3-gram match.
        assertArrayEquals(new int[0], propose(new NgramProposer(3, 5), 5, 1, 6, 7, 8, 2, 6, 7));
        // Too short to hold the suffix and anything before it.
        assertArrayEquals(new int[0], propose(new NgramProposer(3, 5), 5, 6, 7, 8));
        assertArrayEquals(new int[0], propose(new NgramProposer(3, 5), 5, 7, 8));
    }

    @Test
    void theMostRecentOccurrenceWins() {
        // "1 2" occurs at 0 (then 3) and at 4 (then 5); the later one proposes.
        assertArrayEquals(new int[]{5, 6}, propose(new NgramProposer(2, 2), 2, 1, 2, 3, 9, 1, 2, 5, 6, 1, 2));
        assertEquals(4, NgramProposer.lastEarlierMatch(new int[]{1, 2, 3, 9, 1, 2, 5, 6, 1, 2}, 10, 2));
    }

    @Test
    void aMatchMayOverlapTheSuffix() {
        // "a a a a" with n = 2: the latest earlier "a a" starts at 1 and only one known token follows it.
        assertEquals(1, NgramProposer.lastEarlierMatch(new int[]{7, 7, 7, 7}, 4, 2));
        assertArrayEquals(new int[]{7}, propose(new NgramProposer(2, 5), 5, 7, 7, 7, 7));
        // "x y x y x y" with n = 2: "x y" at 2, followed by the suffix itself.
        assertArrayEquals(new int[]{3, 4}, propose(new NgramProposer(2, 5), 5, 3, 4, 3, 4, 3, 4));
    }

    @Test
    void proposalsAreCappedByTheRoomAndByTheKnownTokens() {
        int[] known = {1, 2, 3, 4, 5, 6, 1, 2};
        assertArrayEquals(new int[]{3, 4, 5, 6, 1, 2}, propose(new NgramProposer(2, 8), 8, known), "known tokens end it");
        assertArrayEquals(new int[]{3, 4}, propose(new NgramProposer(2, 8), 2, known), "the batch's room ends it");
    }

    @Test
    void nOfOneMatchesTheLastTokenAlone() {
        assertArrayEquals(new int[]{8, 3}, propose(new NgramProposer(1, 2), 2, 5, 9, 8, 3, 9));
        assertArrayEquals(new int[0], propose(new NgramProposer(1, 2), 2, 9));
        assertArrayEquals(new int[]{9}, propose(new NgramProposer(1, 2), 2, 9, 9));
    }

    @Test
    void everyEntryOfTheBatchGetsItsOwnProposals() {
        ProposalBatch batch = ProposalBatchFixture.of(VOCAB, 32, new int[]{3, 1, 3},
                new int[]{1, 2, 3, 1, 2}, new int[]{4, 5, 6, 4, 5}, new int[]{7, 8, 9});
        new NgramProposer(2, 3).propose(batch);
        assertArrayEquals(new int[]{3, 1, 2}, ProposalBatchFixture.proposals(batch, 0));
        assertArrayEquals(new int[]{6}, ProposalBatchFixture.proposals(batch, 1));
        assertArrayEquals(new int[0], ProposalBatchFixture.proposals(batch, 2));
    }

    @Test
    void boundsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> new NgramProposer(0, 5));
        assertThrows(IllegalArgumentException.class, () -> new NgramProposer(NgramProposer.MAX_N + 1, 5));
        assertThrows(IllegalArgumentException.class, () -> new NgramProposer(3, 0));
        assertThrows(IllegalArgumentException.class, () -> new NgramProposer(3, NgramProposer.MAX_K + 1));
        assertEquals(5, new NgramProposer(NgramProposer.MAX_N, 5).maxProposedTokens());
        assertEquals(NgramProposer.MAX_K, new NgramProposer(1, NgramProposer.MAX_K).maxProposedTokens());
    }
}
