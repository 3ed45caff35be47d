import Inference

/// Model loading for the executable, which reaches the engine only through `Pipeline`.
public enum ModelFile {
    /// Loads a model file; the file's kind is detected from its content.
    /// - Throws: `ModelError` naming the field and the reason.
    public static func load(path: String, format: ModelLoader.Format = .auto) throws -> any Model {
        try ModelLoader.load(path: path, format: format)
    }
}
