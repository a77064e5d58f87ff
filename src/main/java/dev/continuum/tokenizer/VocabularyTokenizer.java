package dev.continuum.tokenizer;

/**
 * What every vocabulary-backed tokenizer shares: the vocabulary, BOS/EOS, the special-token splitter and each
 * token's output bytes, which subclasses fill in their constructors since rendering differs by algorithm.
 */
public abstract class VocabularyTokenizer implements Tokenizer {
    protected final Vocabulary vocab;
    protected final int bosId;
    protected final int eosId;
    protected final boolean addBos;
    protected final SpecialTokenSplitter splitter;
    /** Output bytes per token id; filled by the subclass constructor. */
    protected final byte[][] bytesById;

    protected VocabularyTokenizer(Vocabulary vocab, int bosId, int eosId, boolean addBos) {
        this.vocab = vocab;
        this.bosId = vocab.checkedId("BOS token id", bosId);
        this.eosId = vocab.checkedId("EOS token id", eosId);
        this.addBos = addBos;
        this.splitter = new SpecialTokenSplitter(vocab);
        this.bytesById = new byte[vocab.size()][];
    }

    @Override
    public int vocabSize() {
        return vocab.size();
    }

    @Override
    public int bosId() {
        return bosId;
    }

    @Override
    public int eosId() {
        return eosId;
    }

    @Override
    public boolean addBos() {
        return addBos;
    }

    @Override
    public String piece(int id) {
        return vocab.piece(id);
    }

    @Override
    public boolean isControl(int id) {
        return vocab.type(id) == TokenType.CONTROL;
    }

    @Override
    public byte[] tokenBytes(int id) {
        return bytesById[id];
    }
}
