package dev.continuum.tokenizer;

import dev.continuum.format.ModelFormatException;

/** A tokenizer vocabulary: each token's text, score and type, and the reverse lookup from text to id. */
public final class Vocabulary {
    private final String[] pieces;
    private final float[] scores;
    private final int[] types;
    private final StringToIntMap ids;

    /** scores and types may be null (all zero scores, all normal tokens). */
    public Vocabulary(String[] pieces, float[] scores, int[] types) {
        if (pieces == null || pieces.length == 0) {
            throw new ModelFormatException("tokenizer vocabulary is empty");
        }
        if (scores != null && scores.length != pieces.length) {
            throw new ModelFormatException("tokenizer has " + pieces.length + " tokens but " + scores.length + " scores");
        }
        if (types != null && types.length != pieces.length) {
            throw new ModelFormatException("tokenizer has " + pieces.length + " tokens but " + types.length
                    + " token types");
        }
        this.pieces = pieces;
        this.scores = scores == null ? new float[pieces.length] : scores;
        if (types == null) {
            types = new int[pieces.length];
            java.util.Arrays.fill(types, TokenType.NORMAL);
        }
        this.types = types;
        this.ids = new StringToIntMap(pieces.length);
        for (int i = 0; i < pieces.length; i++) {
            if (pieces[i] == null) {
                throw new ModelFormatException("tokenizer token " + i + " has no text");
            }
            ids.put(pieces[i], i);
        }
    }

    public int size() {
        return pieces.length;
    }

    public String piece(int id) {
        return pieces[id];
    }

    public float score(int id) {
        return scores[id];
    }

    public int type(int id) {
        return types[id];
    }

    /** The id of the token with exactly this text, or -1. */
    public int id(String text) {
        return ids.get(text);
    }

    /** The id of a token read from metadata, checked to be in range; -1 stays -1. */
    int checkedId(String what, int id) {
        if (id < -1 || id >= pieces.length) {
            throw new ModelFormatException(what + " " + id + " is outside the vocabulary of " + pieces.length
                    + " tokens");
        }
        return id;
    }
}
