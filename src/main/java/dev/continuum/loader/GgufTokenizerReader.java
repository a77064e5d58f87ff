package dev.continuum.loader;

import dev.continuum.format.ModelFormatException;
import dev.continuum.tokenizer.Gpt2Tokenizer;
import dev.continuum.tokenizer.SentencePieceTokenizer;
import dev.continuum.tokenizer.Tokenizer;
import dev.continuum.tokenizer.Vocabulary;
import dev.continuum.tokenizer.WordPieceTokenizer;

/**
 * Builds the tokenizer a GGUF file describes in its {@code tokenizer.ggml.*} metadata. It lives with the GGUF
 * reader rather than with the tokenizers: reading metadata keys, and llama.cpp's defaults for absent ones, is
 * about the file format, and the tokenizer package then needs nothing from the loader.
 */
public final class GgufTokenizerReader {
    private GgufTokenizerReader() {
    }

    public static Tokenizer read(GgufMetadata md) {
        String model = md.getString("tokenizer.ggml.model", null);
        if (model == null) {
            throw new ModelFormatException("GGUF has no tokenizer: metadata 'tokenizer.ggml.model' is missing");
        }
        return switch (model) {
            case "llama" -> sentencePiece(md);
            case "gpt2" -> gpt2(md);
            case "bert" -> wordPiece(md);
            default -> throw new ModelFormatException("unsupported tokenizer.ggml.model '" + model
                    + "': supported are 'llama' (SentencePiece) and 'gpt2' (byte-level BPE), 'bert' (WordPiece)");
        };
    }

    private static Vocabulary vocabulary(GgufMetadata md) {
        String[] tokens = md.getStringArray("tokenizer.ggml.tokens");
        if (tokens == null) {
            throw new ModelFormatException("required metadata 'tokenizer.ggml.tokens' is missing");
        }
        return new Vocabulary(tokens, md.getFloatArray("tokenizer.ggml.scores"),
                md.getIntArray("tokenizer.ggml.token_type"));
    }

    private static SentencePieceTokenizer sentencePiece(GgufMetadata md) {
        Vocabulary vocab = vocabulary(md);
        // llama.cpp's defaults for SentencePiece vocabularies: <unk> 0, <s> 1, </s> 2.
        return new SentencePieceTokenizer(vocab,
                md.getInt("tokenizer.ggml.bos_token_id", 1),
                endOfGeneration(md, 2),
                md.getInt("tokenizer.ggml.unknown_token_id", 0),
                md.getBoolean("tokenizer.ggml.add_bos_token", true),
                md.getBoolean("tokenizer.ggml.add_space_prefix", true));
    }

    private static Gpt2Tokenizer gpt2(GgufMetadata md) {
        Vocabulary vocab = vocabulary(md);
        return new Gpt2Tokenizer(vocab, md.getStringArray("tokenizer.ggml.merges"),
                md.getString("tokenizer.ggml.pre", null),
                md.getInt("tokenizer.ggml.bos_token_id", -1),
                endOfGeneration(md, -1),
                md.getBoolean("tokenizer.ggml.add_bos_token", false));
    }

    private static WordPieceTokenizer wordPiece(GgufMetadata md) {
        Vocabulary vocab = vocabulary(md);
        // BERT's sequences start with [CLS], which llama.cpp treats as the BOS token; defaults as in BERT's vocabulary.
        int bos = md.getInt("tokenizer.ggml.bos_token_id", md.getInt("tokenizer.ggml.cls_token_id", 101));
        return new WordPieceTokenizer(vocab, bos, endOfGeneration(md, -1),
                md.getInt("tokenizer.ggml.unknown_token_id", 100),
                md.getBoolean("tokenizer.ggml.add_bos_token", true));
    }

    private static int endOfGeneration(GgufMetadata md, int fallback) {
        if (md.has("tokenizer.ggml.eos_token_id")) {
            return md.getInt("tokenizer.ggml.eos_token_id", fallback);
        }
        return md.getInt("tokenizer.ggml.eot_token_id", fallback);
    }
}
