package io.innerq.serving;

import io.innerq.serving.ModelDownloader.Sha256;

import java.net.URI;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Well-known GGUF files that {@code innerq pull NAME} downloads by name. A name is {@code model:quantization}, all
 * lower case, e.g. {@code smollm2-135m-instruct:q8_0}.
 *
 * <p>Each pinned SHA-256 is the file's Hugging Face LFS digest as published by other projects that pin the same
 * repository and file (noted per entry), never computed here; sizes come from the same places. An entry without a
 * digest is still checked as a GGUF file before it takes its name. URLs follow {@code resolve/main}: if a publisher
 * replaces a file, its pinned digest (and size) no longer match and the pull says so before anything is kept.
 */
public final class ModelCatalog {

    /**
     * One downloadable file.
     *
     * @param name   what the user types
     * @param title  the model, its quantization and who converted it
     * @param url    the file's {@code resolve/main} URL
     * @param sha256 the published digest, when one was found
     * @param size   the file's size in bytes, when known with the digest
     */
    public record Entry(String name, String title, URI url, Optional<Sha256> sha256, OptionalLong size) {
        public Entry {
            if (!name.equals(name.toLowerCase(Locale.ROOT)) || !name.contains(":")) {
                throw new IllegalArgumentException("catalog names are lower case model:quantization, got " + name);
            }
        }

        /** The file name the download gets: the URL's last path segment. */
        public String fileName() {
            return ModelDownloader.Request.fileNameOf(url);
        }
    }

    private static final String HF = "https://huggingface.co/";

    private static final List<Entry> ENTRIES = List.of(
            // TheBloke's repository, unchanged since revision 52e7645ba7c309695bec7ac98f4f005b139cf465. Digest and
            // size as pinned at that revision by several projects (e.g. a Go server's ModelChecksum constant and
            // PowerShell/C++ model catalogs).
            entry("tinyllama-1.1b-chat:q4_0", "TinyLlama 1.1B Chat v1.0, Q4_0 (TheBloke)",
                    "TheBloke/TinyLlama-1.1B-Chat-v1.0-GGUF", "tinyllama-1.1b-chat-v1.0.Q4_0.gguf",
                    "da3087fb14aede55fde6eb81a0e55e886810e43509ec82ecdc7aa5d62a03b556", 637_699_456L),
            // Same repository and revision; digest and size from a C++ catalog pinning
            // resolve/52e7645.../tinyllama-1.1b-chat-v1.0.Q8_0.gguf, matching published benchmark reports.
            entry("tinyllama-1.1b-chat:q8_0", "TinyLlama 1.1B Chat v1.0, Q8_0 (TheBloke)",
                    "TheBloke/TinyLlama-1.1B-Chat-v1.0-GGUF", "tinyllama-1.1b-chat-v1.0.Q8_0.gguf",
                    "a4c9bb1dbaa372f6381a035fa5c02ef087aaa1ff1f843a56a22328114f03fc59", 1_170_781_568L),
            // bartowski's conversion at revision 09816acd5d99df7be770d85ea30822623dab342c; digest and size from a
            // verification record that checked them against the Hugging Face LFS metadata, and from app catalogs.
            entry("smollm2-135m-instruct:q8_0", "SmolLM2 135M Instruct, Q8_0 (bartowski)",
                    "bartowski/SmolLM2-135M-Instruct-GGUF", "SmolLM2-135M-Instruct-Q8_0.gguf",
                    "5a1395716f7913741cc51d98581b9b1228d80987a9f7d3664106742eb06bba83", 144_811_360L),
            // No published digest of this file was found: only the GGUF check guards it.
            entry("smollm2-135m-instruct:q4_0", "SmolLM2 135M Instruct, Q4_0 (bartowski)",
                    "bartowski/SmolLM2-135M-Instruct-GGUF", "SmolLM2-135M-Instruct-Q4_0.gguf", null, -1),
            // Hugging Face's own conversion (the repository has Q8_0 only); the same digest and size at revisions
            // 593b5a2e04c8f3e4ee880263f93e0bd2901ad47f and 2633adad3eb0aec759aec7f41db367d974571ecf, from two
            // projects that compared them with the LFS metadata (one with the CDN's x-linked-etag).
            entry("smollm2-360m-instruct:q8_0", "SmolLM2 360M Instruct, Q8_0 (HuggingFaceTB)",
                    "HuggingFaceTB/SmolLM2-360M-Instruct-GGUF", "smollm2-360m-instruct-q8_0.gguf",
                    "48ab3034d0dd401fbc721eb1df3217902fee7dab9078992d66431f09b7750201", 386_404_992L),
            // bartowski's conversion; digest and size from CI model manifests and benchmark records that download
            // resolve/main/Llama-3.2-1B-Instruct-Q4_0.gguf.
            entry("llama-3.2-1b-instruct:q4_0", "Llama 3.2 1B Instruct, Q4_0 (bartowski)",
                    "bartowski/Llama-3.2-1B-Instruct-GGUF", "Llama-3.2-1B-Instruct-Q4_0.gguf",
                    "fa0390e7c043f89ae1847bd6682d748041a99d4ef3de0e0b27d33b6af97a8be8", 773_025_920L),
            // Same repository at revision 067b946cf014b7c697f3654f621d577a3e3afd1c; digest and size from a
            // download script pinning that revision, matched by benchmark records.
            entry("llama-3.2-1b-instruct:q8_0", "Llama 3.2 1B Instruct, Q8_0 (bartowski)",
                    "bartowski/Llama-3.2-1B-Instruct-GGUF", "Llama-3.2-1B-Instruct-Q8_0.gguf",
                    "432f310a77f4650a88d0fd59ecdd7cebed8d684bafea53cbff0473542964f0c3", 1_321_083_008L));

    private ModelCatalog() {
    }

    private static Entry entry(String name, String title, String repository, String file, String sha256,
                               long size) {
        return new Entry(name, title, URI.create(HF + repository + "/resolve/main/" + file),
                Optional.ofNullable(sha256).map(Sha256::parse), size > 0 ? OptionalLong.of(size) : OptionalLong.empty());
    }

    /** Every entry, in the order {@code innerq pull --list} shows them. */
    public static List<Entry> entries() {
        return ENTRIES;
    }

    /** The entry of that name (any case), if there is one. */
    public static Optional<Entry> find(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        return ENTRIES.stream().filter(e -> e.name().equals(n)).findFirst();
    }

    /** Entries whose name starts with {@code model} (any case): the quantizations of a model named without one. */
    public static List<Entry> startingWith(String model) {
        String n = model.toLowerCase(Locale.ROOT);
        return ENTRIES.stream().filter(e -> e.name().startsWith(n)).toList();
    }
}
