import Foundation
import Inference

/// The example fraud model compiled into the binary (`Models/fraud-xgb.json`, an XGBoost
/// model trained by `scripts/make_model_fixtures.py` on the demo's events), so that
/// `streamscore demo` runs from any directory with no files beside it.
enum BundledModel {
    /// What `--model` help and the demo's banner call it.
    static let name = "fraud-xgb"

    /// Parses the embedded bytes. Same identity as loading `Models/fraud-xgb.json`: the
    /// name, and a version hashed from the same bytes.
    static func load() throws(ModelError) -> any Model {
        try ModelLoader.load(data: Data(PackageResources.fraud_xgb_json), format: .xgboost, name: name)
    }
}
