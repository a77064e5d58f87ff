package dev.continuum.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.PriorityQueue;

/**
 * The SentencePiece-style tokenizer of Llama models (llama.cpp's SPM tokenizer): pieces merge pairwise by
 * highest vocabulary score, and characters that end up in no piece fall back to {@code <0xNN>} byte tokens.
 */
public final class SentencePieceTokenizer extends VocabularyTokenizer {
    static final char SPACE_MARKER = '\u2581';

    private final boolean addSpacePrefix;
    private final int[] byteIds = new int[256];

    public SentencePieceTokenizer(Vocabulary vocab, int bosId, int eosId, int unknownId, boolean addBos,
            boolean addSpacePrefix) {
        super(vocab, bosId, eosId, addBos);
        vocab.checkedId("unknown token id", unknownId);
        this.addSpacePrefix = addSpacePrefix;
        for (int b = 0; b < 256; b++) {
            int id = vocab.id(String.format("<0x%02X>", b));
            if (id < 0 && b < 128) {
                id = vocab.id(String.valueOf((char) b));
            }
            byteIds[b] = id >= 0 ? id : unknownId;
        }
        for (int id = 0; id < vocab.size(); id++) {
            bytesById[id] = renderedBytes(id);
        }
    }









    @Override
    public int[] encode(String text, boolean parseSpecial) {
        IntList out = new IntList(text.length() + 4);
        // The space prefix goes on the first text fragment and on text that follows a special token.
        boolean afterSpecial = true;
        List<SpecialTokenSplitter.Fragment> fragments = splitter.split(text, parseSpecial);
        for (SpecialTokenSplitter.Fragment fragment : fragments) {
            if (fragment.isText()) {
                String t = addSpacePrefix && afterSpecial ? " " + fragment.text() : fragment.text();
                encodeText(t.replace(' ', SPACE_MARKER), out);
                afterSpecial = false;
            } else {
                out.add(fragment.tokenId());
                afterSpecial = true;
            }
        }
        return out.toArray();
    }

    private record Bigram(int left, int right, float score, int length) {
    }

    private void encodeText(String text, IntList out) {
        int n = text.codePointCount(0, text.length());
        if (n == 0) {
            return;
        }
        int[] start = new int[n];
        int[] length = new int[n];
        int[] prev = new int[n];
        int[] next = new int[n];
        int offset = 0;
        for (int i = 0; i < n; i++) {
            int cp = text.codePointAt(offset);
            start[i] = offset;
            length[i] = Character.charCount(cp);
            offset += length[i];
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
        PriorityQueue<Bigram> queue = new PriorityQueue<>((a, b) -> a.score != b.score
                ? Float.compare(b.score, a.score) : Integer.compare(a.left, b.left));
        for (int i = 1; i < n; i++) {
            offerBigram(text, start, length, i - 1, i, queue);
        }
        while (!queue.isEmpty()) {
            Bigram bigram = queue.poll();
            int l = bigram.left;
            int r = bigram.right;
            // A symbol that merged since this bigram was queued makes it stale.
            if (length[l] == 0 || length[r] == 0 || length[l] + length[r] != bigram.length) {
                continue;
            }
            length[l] += length[r];
            length[r] = 0;
            next[l] = next[r];
            if (next[r] >= 0) {
                prev[next[r]] = l;
            }
            offerBigram(text, start, length, prev[l], l, queue);
            offerBigram(text, start, length, l, next[l], queue);
        }
        for (int i = 0; i != -1; i = next[i]) {
            String symbol = text.substring(start[i], start[i] + length[i]);
            int id = vocab.id(symbol);
            if (id >= 0) {
                out.add(id);
            } else {
                for (byte b : symbol.getBytes(StandardCharsets.UTF_8)) {
                    out.add(byteIds[b & 0xFF]);
                }
            }
        }
    }

    private void offerBigram(String text, int[] start, int[] length, int left, int right, PriorityQueue<Bigram> queue) {
        if (left < 0 || right < 0) {
            return;
        }
        int len = length[left] + length[right];
        int id = vocab.id(text.substring(start[left], start[left] + len));
        if (id >= 0) {
            queue.add(new Bigram(left, right, vocab.score(id), len));
        }
    }

    private byte[] renderedBytes(int id) {
        String piece = vocab.piece(id);
        return switch (vocab.type(id)) {
            case TokenType.NORMAL -> piece.replace(SPACE_MARKER, ' ').getBytes(StandardCharsets.UTF_8);
            case TokenType.USER_DEFINED -> piece.getBytes(StandardCharsets.UTF_8);
            case TokenType.BYTE -> new byte[] {(byte) parseByteToken(id, piece)};
            default -> new byte[0];
        };
    }

    private static int parseByteToken(int id, String piece) {
        if (piece.length() == 6 && piece.startsWith("<0x") && piece.endsWith(">")) {
            try {
                return Integer.parseInt(piece.substring(3, 5), 16);
            } catch (NumberFormatException e) {
                // fall through to the error below
            }
        }
        throw new dev.continuum.format.ModelFormatException("byte token " + id + " is '" + piece
                + "', expected the form <0xNN>");
    }
}
