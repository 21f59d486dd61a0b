"""The planners' Streamlit web map. Run with ``streamlit run app.py``."""
