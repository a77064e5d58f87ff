package dev.continuum.tokenizer;

import dev.continuum.format.ModelFormatException;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.PriorityQueue;

/**
 * Byte-level BPE as in GPT-2 and its descendants (llama.cpp's BPE tokenizer): a regex pre-tokenizer splits the
 * text into words, each word's UTF-8 bytes are written as GPT-2 stand-in characters, and adjacent symbols merge
 * in the order of the merge list.
 */
public final class Gpt2Tokenizer extends VocabularyTokenizer {
    private final StringToIntMap mergeRanks;
    private final PreTokenizer preTokenizer;
    private final boolean ignoreMerges;

    /**
     * @param merges the merge list, each entry two symbols separated by one space, highest priority first
     * @param pre the {@code tokenizer.ggml.pre} value choosing the pre-tokenizer (null for "default")
     */
    public Gpt2Tokenizer(Vocabulary vocab, String[] merges, String pre, int bosId, int eosId, boolean addBos) {
        super(vocab, bosId, eosId, addBos);
        if (merges == null) {
            throw new ModelFormatException("gpt2 tokenizer has no tokenizer.ggml.merges");
        }
        this.preTokenizer = PreTokenizer.forName(pre);
        // Llama 3's tokenizer takes a word that is itself a token whole, whatever the merges would do.
        this.ignoreMerges = preTokenizer.name().startsWith("llama") || preTokenizer.name().equals("dbrx")
                || preTokenizer.name().equals("smaug-bpe");
        mergeRanks = new StringToIntMap(merges.length);
        for (int rank = merges.length - 1; rank >= 0; rank--) {
            String merge = merges[rank];
            int space = merge.indexOf(' ', 1);
            if (space < 0) {
                throw new ModelFormatException("merge " + rank + " '" + merge + "' is not two symbols separated by a space");
            }
            mergeRanks.put(merge, rank); // iterating backwards keeps the first rank of a duplicate
        }
        for (int id = 0; id < vocab.size(); id++) {
            bytesById[id] = renderedBytes(id);
        }
    }









    @Override
    public int[] encode(String text, boolean parseSpecial) {
        IntList out = new IntList(text.length() / 2 + 4);
        for (SpecialTokenSplitter.Fragment fragment : splitter.split(text, parseSpecial)) {
            if (!fragment.isText()) {
                out.add(fragment.tokenId());
                continue;
            }
            List<String> words = preTokenizer.split(fragment.text());
            for (String word : words) {
                encodeWord(Gpt2ByteMap.encode(word), out);
            }
        }
        return out.toArray();
    }

    private record Bigram(int left, int right, int rank, int length) {
    }

    private void encodeWord(String word, IntList out) {
        if (ignoreMerges) {
            int id = vocab.id(word);
            if (id >= 0) {
                out.add(id);
                return;
            }
        }
        // Stand-in characters are all in the BMP, so every char is one symbol.
        int n = word.length();
        int[] length = new int[n];
        int[] prev = new int[n];
        int[] next = new int[n];
        for (int i = 0; i < n; i++) {
            length[i] = 1;
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
        PriorityQueue<Bigram> queue = new PriorityQueue<>((a, b) -> a.rank != b.rank
                ? Integer.compare(a.rank, b.rank) : Integer.compare(a.left, b.left));
        for (int i = 1; i < n; i++) {
            offerBigram(word, length, i - 1, i, queue);
        }
        while (!queue.isEmpty()) {
            Bigram bigram = queue.poll();
            int l = bigram.left;
            int r = bigram.right;
            if (length[l] == 0 || length[r] == 0 || length[l] + length[r] != bigram.length) {
                continue; // stale: one side merged with something else since
            }
            length[l] += length[r];
            length[r] = 0;
            next[l] = next[r];
            if (next[r] >= 0) {
                prev[next[r]] = l;
            }
            offerBigram(word, length, prev[l], l, queue);
            offerBigram(word, length, l, next[l], queue);
        }
        for (int i = 0; i != -1; i = next[i]) {
            String symbol = word.substring(i, i + length[i]);
            int id = vocab.id(symbol);
            if (id >= 0) {
                out.add(id);
                continue;
            }
            // Like llama.cpp: a symbol outside the vocabulary falls back to its single-byte pieces that exist.
            for (byte b : symbol.getBytes(StandardCharsets.UTF_8)) {
                int byteId = b >= 0 ? vocab.id(String.valueOf((char) b)) : -1;
                if (byteId >= 0) {
                    out.add(byteId);
                }
            }
        }
    }

    private void offerBigram(String word, int[] length, int left, int right, PriorityQueue<Bigram> queue) {
        if (left < 0 || right < 0) {
            return;
        }
        String pair = word.substring(left, left + length[left]) + ' '
                + word.substring(right, right + length[right]);
        int rank = mergeRanks.get(pair);
        if (rank >= 0) {
            queue.add(new Bigram(left, right, rank, length[left] + length[right]));
        }
    }

    private byte[] renderedBytes(int id) {
        String piece = vocab.piece(id);
        return switch (vocab.type(id)) {
            case TokenType.NORMAL -> byteLevelDecode(piece);
            case TokenType.USER_DEFINED -> piece.getBytes(StandardCharsets.UTF_8);
            default -> new byte[0];
        };
    }

    private static byte[] byteLevelDecode(String piece) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(piece.length());
        for (int i = 0; i < piece.length(); i++) {
            int b = Gpt2ByteMap.byteOf(piece.charAt(i));
            if (b >= 0) {
                out.write(b);
            } else {
                // Not a stand-in character: keep it as the text it is.
                int cp = piece.codePointAt(i);
                out.writeBytes(new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8));
                i += Character.charCount(cp) - 1;
            }
        }
        return out.toByteArray();
    }
}
