"""The first era's files (a French ``session_config.txt``, ``metadata.json``) and image names, as
the legacy-v0 tests and the identity and infotext tests use them."""

CONFIG = """============================================================
SESSION CONFIGURATION
============================================================

Date de génération: 2025-10-01 21:52:20
Nom de session: faces
URL API: http://127.0.0.1:7860
Dossier de sortie: apioutput\\2025-10-01_215220_faces

----------------------------------------
PROMPTS
----------------------------------------
Prompt de base:
masterpiece, {Expression},
{Angle}: detailed

Prompt négatif:
low quality

----------------------------------------
PARAMÈTRES DE GÉNÉRATION
----------------------------------------
steps: 30
cfg_scale: 7.0
width: 512
height: 768
sampler_name: DPM++ 2M Karras
batch_size: 1
n_iter: 1

----------------------------------------
INFORMATIONS ADDITIONNELLES
----------------------------------------
seed_principal: 42
limite_max_images: 50
fichiers_variations: {'Expression': 'variations\\\\expressions.txt', 'Angle': 'variations\\\\angles.txt'}
nombre_par_type: {'Expression': 5, 'Angle': 3}
combinaisons_totales_possibles: 15
nombre_images_demandees: 15
"""

METADATA = {
    "version": "1.0",
    "generation_info": {"date": "2025-10-01", "timestamp": "2025-10-01T21:52:21", "session_name": "faces",
                        "total_images": 15, "generation_time_seconds": 187.5, "generation_mode": "combinatorial",
                        "seed_mode": "progressive", "seed": 42, "total_combinations": 15},
    "prompt": {"template": "masterpiece, {Expression}, {Angle}", "negative": "low quality",
               "example_resolved": "masterpiece, smiling, front"},
    "variations": {"Expression": {"count": 12, "values": ["smiling", "sad", "... and 10 more"]},
                   "Angle": {"count": 3, "values": ["front", "side", "back"]}},
    "generation": {"mode": "combinatorial", "seed_mode": "progressive", "seed": 42, "total_combinations": 15,
                   "images_generated": 15},
    "parameters": {"width": 512, "height": 768, "steps": 30, "cfg_scale": 7.0, "sampler": "DPM++ 2M Karras",
                   "batch_size": 1, "batch_count": 1},
    "output": {"folder": "apioutput\\2025-10-01_215220_faces", "filename_keys": ["Expression", "Angle"]},
}


def v0_images(count):
    return [f"faces_{i:03d}_Expression_smiling_Angle_front.png" for i in range(1, count + 1)]
