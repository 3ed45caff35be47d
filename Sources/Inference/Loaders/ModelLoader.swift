import Foundation

/// Loads model files, detecting the format from the content (or told it explicitly):
///
/// - native JSON (`"format_version": 1`): `logistic` and `mlp`, as written by
///   `scripts/export_sklearn.py` (see `NativeModelLoader` for the schema);
/// - XGBoost JSON (`Booster.save_model("m.json")`, recognised by its `learner` object);
/// - LightGBM text (`Booster.save_model("m.txt")`).
///
/// XGBoost and LightGBM files carry no name or version: the name is the file name without
/// its extension and the version the first 8 hex digits of a hash of the file's bytes, so
/// a retrained file is a new version (lineage headers, cache keys).
public enum ModelLoader {
    public enum Format: String, Sendable, CaseIterable {
        case auto, native, xgboost, lightgbm
    }

    /// Reads and validates a model file.
    /// - Throws: `ModelError` naming the field and the reason.
    public static func load(path: String, format: Format = .auto) throws(ModelError) -> any Model {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw .unreadable(path: path, reason: (error as NSError).localizedDescription)
        }
        let base = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        return try load(data: data, format: format, name: base)
    }

    /// Parses model bytes. `name` names XGBoost and LightGBM models (default: the format).
    /// - Throws: `ModelError` naming the field and the reason.
    public static func load(data: Data, format: Format = .auto, name: String? = nil) throws(ModelError) -> any Model {
        let hash = contentHash(data)
        var model = try parse(data: data, format: format, name: name, hash: hash)
        model.contentHash = hash
        return model
    }

    private static func parse(data: Data, format: Format, name: String?, hash: String) throws(ModelError) -> any Model {
        let firstByte = data.first { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }
        let resolved: Format
        switch format {
        case .auto:
            guard let firstByte else { throw .invalidJSON(reason: "the file is empty") }
            resolved = firstByte == UInt8(ascii: "{") ? .native : .lightgbm
        default:
            resolved = format
        }
        if resolved == .lightgbm {
            guard let text = String(data: data, encoding: .utf8) else {
                throw .invalidField("(file)", reason: "not UTF-8 text: neither JSON nor a LightGBM text model")
            }
            return try LightGBMLoader.load(text, name: name, version: hash)
        }
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: data)
        } catch {
            throw .invalidJSON(reason: "\(error.localizedDescription)")
        }
        guard let root = object as? [String: Any] else { throw .invalidJSON(reason: "top level is not an object") }
        if format == .xgboost || (format == .auto && root["learner"] != nil) {
            return try XGBoostLoader.load(root, name: name, version: hash)
        }
        if format == .auto && root["format_version"] == nil {
            throw .missingField("format_version (not a native model; XGBoost JSON has a 'learner' object)")
        }
        return try NativeModelLoader.load(root)
    }

    /// FNV-1a over the bytes, as 8 hex digits.
    static func contentHash(_ data: Data) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in data {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        let hex = String(hash, radix: 16)
        return String((String(repeating: "0", count: max(0, 16 - hex.count)) + hex).prefix(8))
    }
}
